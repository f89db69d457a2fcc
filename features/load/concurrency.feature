@load
Feature: Fifty and more concurrent users are all answered, without degradation
  The founding document asks for 50+ concurrent requests without degradation. Users send
  completions through the suite's load engine (asynchronous clients on shared keep-alive
  connection pools); every request is timed from sending to its last byte, streams also to
  their first token and between tokens. Each run's figures (JSON) and plot (PNG) are attached
  below and written to reports/load/.

  The bounds are this file's tables: the values here are for CI (2 shared cores, SmolLM2-135M,
  4 slots), where 50 users queue for 4 slots and a request waits seconds. A faster target
  tightens them in its own copy of the tables.

  @req.LOAD-USERS @req.QUAL-NO-CRASH
  Scenario Outline: <users> users send <kind> completions back to back
    Given the server under test is running
    And one user's throughput with 5 <kind> completions of <tokens> tokens is noted
    When <users> users each send <per_user> <kind> completions of <tokens> tokens back to back
    Then every request was answered
    And no request failed except with a documented 503
    And the p95 latency is under <p95_s> seconds
    And the throughput is at least <vs_one_user> times the single-user throughput
    And the server is healthy

    @atlas
    Examples: ATLAS users, CI bounds
      | users | per_user | kind           | tokens | p95_s | vs_one_user |
      | 50    | 2        | ATLAS          | 8      | 30    | 0.8         |
      | 50    | 2        | streamed ATLAS | 8      | 30    | 0.8         |

    Examples: any OpenAI server, CI bounds
      | users | per_user | kind           | tokens | p95_s | vs_one_user |
      | 50    | 2        | plain          | 8      | 30    | 0.8         |

  @atlas @req.LOAD-USERS
  Scenario Outline: Streams start within a bound while <users> ATLAS users wait, and none stays active
    Given the ATLAS server is running
    When <users> users each send <per_user> streamed ATLAS completions of <tokens> tokens back to back
    Then every request was answered
    And no request failed except with a documented 503
    And the p95 time to first token is under <ttft_s> seconds
    And within 30 seconds the server reports no active requests

    Examples: CI bounds
      | users | per_user | tokens | ttft_s |
      | 60    | 1        | 8      | 30     |

  @atlas @req.LOAD-USERS
  Scenario Outline: ATLAS requests arriving at <rate> per second, whether or not earlier ones are answered
    Given the ATLAS server is running
    When ATLAS completions of <tokens> tokens arrive at <rate> per second for <seconds> seconds
    Then every request was answered
    And no request failed except with a documented 503
    And the arrivals kept to their schedule within <late_ms> ms at p95
    And the p95 latency is under <p95_s> seconds
    And within 30 seconds the server reports no active requests

    Examples: CI bounds
      | rate | seconds | tokens | late_ms | p95_s |
      | 3    | 15      | 8      | 50      | 10    |
