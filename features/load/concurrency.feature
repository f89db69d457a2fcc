@load
Feature: Fifty and more concurrent users are all answered, without degradation
  The requirements ask for 50+ concurrent requests without degradation. Users send
  completions through the suite's load engine (asynchronous clients on shared keep-alive
  connection pools); every request is timed from sending to its last byte, streams also to
  their first token and between tokens. Each run's figures (JSON) and plot (PNG) are attached
  below and written to reports/load/.

  The default run's bounds hold on a busy machine: none is an absolute time. Each compares
  figures of the same run (docs/load.md, "Timing on a busy machine", has the measurements):
  * streams generated side by side: the time-weighted mean of the streams producing tokens at
    the same moment, a count that no slowness changes: 1 for a server that serialises its
    requests, 3 to 4 measured with 4 slots, bound 1.8.
  * tail: the p95 latency (or time to first token) against the mean latency of the same load.
    A fair queue at a steady speed keeps it near 1.3 with 2 requests per user (the first wave
    waits 0 to T, the second about T) and 1.9 with one (0 to T); measured 1.4 to 1.5, and 2.6 for plain completions under a
    load average of 16, where a few requests waited the whole 82 s run while the median waited
    30 s. Bound 4: a server that leaves requests waiting several times the average.
  * throughput against one user's, measured just before and just after the load (the slower
    of the two counts, so that a machine getting busier or quieter meanwhile does not count
    against the server): 1.5 to 2.0 measured quiet; 0.49 against the "before" figure alone
    while the load average rose from 5 to 15 during the load. Bound 0.5: load must not make
    the server collapse.
  The @hardware outlines keep absolute times for a dedicated machine (-D hardware=yes).

  @timing @req.LOAD-USERS @req.QUAL-NO-CRASH
  Scenario Outline: <users> users send <kind> completions back to back and are served fairly
    Given the server under test is running
    And one user's throughput with 5 <kind> completions of <tokens> tokens is noted
    When <users> users each send <per_user> <kind> completions of <tokens> tokens back to back
    Then every request was answered
    And no request failed except with a documented 503
    And the p95 latency is at most <tail> times the mean latency
    And the throughput is at least <vs_one_user> times the single-user throughput
    And the server is healthy

    @atlas
    Examples: ATLAS users
      | users | per_user | kind  | tokens | tail | vs_one_user |
      | 50    | 2        | ATLAS | 8      | 4    | 0.5         |

    Examples: any OpenAI server
      | users | per_user | kind  | tokens | tail | vs_one_user |
      | 50    | 2        | plain | 8      | 4    | 0.5         |

  @atlas @timing @req.LOAD-USERS @req.QUAL-NO-CRASH
  Scenario Outline: <users> users' streamed ATLAS completions are generated side by side
    Given the ATLAS server is running
    And one user's throughput with 5 streamed ATLAS completions of <tokens> tokens is noted
    When <users> users each send <per_user> streamed ATLAS completions of <tokens> tokens back to back
    Then every request was answered
    And no request failed except with a documented 503
    And on average at least <streams> streams were generating tokens at the same time
    And the p95 latency is at most <tail> times the mean latency
    And the throughput is at least <vs_one_user> times the single-user throughput
    And the server is healthy

    Examples: 4 slots
      | users | per_user | tokens | tail | vs_one_user | streams |
      | 50    | 2        | 8      | 4    | 0.5         | 1.8     |

  @atlas @timing @req.LOAD-USERS
  Scenario Outline: Streams of <users> waiting ATLAS users start in their turn, and none stays active
    Given the ATLAS server is running
    When <users> users each send <per_user> streamed ATLAS completions of <tokens> tokens back to back
    Then every request was answered
    And no request failed except with a documented 503
    And the p95 time to first token is at most <tail> times the mean latency
    And within 30 seconds the server reports no active requests

    Examples: queue-relative bound
      | users | per_user | tokens | tail |
      | 60    | 1        | 8      | 4    |

  @atlas @timing @req.LOAD-USERS
  Scenario Outline: ATLAS requests arriving at <rate> per second, whether or not earlier ones are answered
    Given the ATLAS server is running
    When ATLAS completions of <tokens> tokens arrive at <rate> per second for <seconds> seconds
    Then every request was answered
    And no request failed except with a documented 503
    And the arrivals kept to their schedule within <late_ms> ms at p95
    And the p95 latency is at most <tail> times the mean latency
    And within 30 seconds the server reports no active requests

    # late_ms: under the 333 ms between arrivals, so the load stays an open loop (the load
    # generator is late, not the server: it shares the cores). Measured 1.4 ms quiet, 82 ms
    # under a load average of 15 and 428 ms beside four other suites: past the bound the run
    # was no open loop, and the scenario is skipped with the figure instead of judged.
    Examples: queue-relative bounds
      | rate | seconds | tokens | late_ms | tail |
      | 3    | 15      | 8      | 300     | 4    |

  @hardware @req.LOAD-USERS @req.QUAL-NO-CRASH
  Scenario Outline: On dedicated hardware, <users> users' <kind> completions keep the p95 under <p95_s> seconds
    Given the server under test is running
    And one user's throughput with 5 <kind> completions of <tokens> tokens is noted
    When <users> users each send <per_user> <kind> completions of <tokens> tokens back to back
    Then every request was answered
    And no request failed except with a documented 503
    And the p95 latency is under <p95_s> seconds
    And the throughput is at least <vs_one_user> times the single-user throughput

    Examples: absolute bounds (SmolLM2-135M, 4 slots, 2 dedicated cores)
      | users | per_user | kind           | tokens | p95_s | vs_one_user |
      | 50    | 2        | ATLAS          | 8      | 30    | 0.8         |
      | 50    | 2        | streamed ATLAS | 8      | 30    | 0.8         |
      | 50    | 2        | plain          | 8      | 30    | 0.8         |

  @hardware @atlas @req.LOAD-USERS
  Scenario Outline: On dedicated hardware, streams of <users> waiting users start within <ttft_s> seconds
    Given the ATLAS server is running
    When <users> users each send <per_user> streamed ATLAS completions of <tokens> tokens back to back
    Then every request was answered
    And the p95 time to first token is under <ttft_s> seconds

    Examples: absolute bound
      | users | per_user | tokens | ttft_s |
      | 60    | 1        | 8      | 30     |

  @hardware @atlas @req.LOAD-USERS
  Scenario Outline: On dedicated hardware, ATLAS requests arriving at <rate> per second are answered within <p95_s> seconds
    Given the ATLAS server is running
    When ATLAS completions of <tokens> tokens arrive at <rate> per second for <seconds> seconds
    Then every request was answered
    And the arrivals kept to their schedule within <late_ms> ms at p95
    And the p95 latency is under <p95_s> seconds

    Examples: absolute bounds
      | rate | seconds | tokens | late_ms | p95_s |
      | 3    | 15      | 8      | 50      | 10    |
