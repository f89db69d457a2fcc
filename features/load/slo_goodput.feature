@load
Feature: Service-level objectives, goodput, rate and concurrency sweeps, and baselines
  Teams that choose a serving stack state service-level objectives (SLOs) on the time to first
  token (TTFT), the time per output token (TPOT) and the end-to-end latency (e2e), and ask how
  many requests per second meet them (goodput) and up to which request rate they hold. The
  figures are defined in docs/load-figures.md, with the names vLLM's benchmark, GuideLLM and
  AIPerf give them. Each run's figures (JSON), plot or curve (PNG) and, for a sweep, its table
  (CSV) are attached below and written to reports/load/.

  The default run's bounds hold on a busy machine: the objectives are generous (a minute to
  the first token), and the other bounds compare figures of the same run (a tail against its
  median, goodput against the rate offered, a second run against the first). The @hardware
  outlines keep tight objectives and absolute rates for a dedicated machine (-D hardware=yes).

  @req.LOAD-USERS @req.QUAL-NO-CRASH
  Scenario Outline: Streamed completions with <arrival> arrivals meet generous objectives, their tails near their medians
    Given the server under test is running
    And the service-level objectives "TTFT p99 <= <ttft_s> s, TPOT p99 <= <tpot_ms> ms, e2e <= <e2e_s> s"
    When streamed plain completions of <tokens> tokens arrive at <rate> per second with <arrival> arrivals for <seconds> seconds after <warmup> warm-up requests
    Then no request failed except with a documented 503
    And every service-level objective holds over the run
    And the SLO attainment is at least <attainment> percent
    And the p99 TPOT is at most <tail> times its median

    Examples: generous objectives
      | arrival                | rate | seconds | warmup | tokens | ttft_s | tpot_ms | e2e_s | attainment | tail |
      | Poisson                | 1    | 8       | 2      | 8      | 60     | 5000    | 120   | 95         | 10   |
      | gamma (burstiness 0.5) | 1    | 8       | 2      | 8      | 60     | 5000    | 120   | 95         | 10   |

  @req.LOAD-USERS
  Scenario: A short rate sweep finds a sustainable rate, with its curve and table
    Given the server under test is running
    And the service-level objectives "TTFT p99 <= 60 s, e2e <= 120 s"
    When the request rate is swept over 0.5, 1 per second, 4 seconds each, with streamed plain completions of 8 tokens
    Then the sweep found a highest sustainable rate
    And at the highest sustainable rate the goodput is at least 25 percent of the offered rate

  @req.LOAD-USERS
  Scenario: A short concurrency sweep finds how many users the server serves, with its curve and table
    Given the server under test is running
    And the service-level objectives "TTFT p99 <= 60 s, e2e <= 120 s"
    When the concurrency is swept over 1, 2, 4 users, 4 seconds each, with streamed plain completions of 8 tokens
    Then the sweep found a highest sustainable concurrency

  @req.LOAD-USERS
  Scenario: A second run against the same server is within the tolerance of the first run's baseline
    Given the server under test is running
    When streamed plain completions of 8 tokens arrive at 1 per second with constant arrivals for 5 seconds after 2 warm-up requests
    And the load's figures are saved as the baseline "same server"
    And streamed plain completions of 8 tokens arrive at 1 per second with constant arrivals for 5 seconds after 2 warm-up requests
    Then the figures "tpot_ms.p50, latency_ms.p50" are within 300 percent of the baseline "same server"

  @hardware @req.LOAD-USERS
  Scenario Outline: On dedicated hardware, streams arriving at <rate> per second meet tight objectives
    Given the server under test is running
    And the service-level objectives "TTFT p99 <= <ttft_ms> ms, TPOT p99 <= <tpot_ms> ms, e2e <= <e2e_s> s"
    When streamed plain completions of <tokens> tokens arrive at <rate> per second with Poisson arrivals for <seconds> seconds after <warmup> warm-up requests
    Then every service-level objective holds over the run
    And the SLO attainment is at least <attainment> percent
    And the goodput is at least <goodput> requests per second

    Examples: SmolLM2-135M, 4 slots, 2 dedicated cores
      | rate | seconds | warmup | tokens | ttft_ms | tpot_ms | e2e_s | attainment | goodput |
      | 2    | 30      | 4      | 16     | 2000    | 200     | 10    | 99         | 1.5     |

  @hardware @req.LOAD-USERS
  Scenario Outline: On dedicated hardware, the rate sweep sustains at least <rate> requests per second
    Given the server under test is running
    And the service-level objectives "TTFT p99 <= <ttft_ms> ms, TPOT p99 <= <tpot_ms> ms"
    When the request rate is swept over <rates> per second, <seconds> seconds each, with streamed plain completions of <tokens> tokens
    Then the highest sustainable rate is at least <rate> requests per second
    And at the highest sustainable rate the goodput is at least 80 percent of the offered rate

    Examples: SmolLM2-135M, 4 slots, 2 dedicated cores
      | rates               | seconds | tokens | ttft_ms | tpot_ms | rate |
      | 0.5, 1, 2, 4, 8, 16 | 30      | 16     | 2000    | 200     | 2    |

  @hardware @req.LOAD-USERS
  Scenario Outline: On dedicated hardware, the concurrency sweep serves at least <users> users within the objectives
    Given the server under test is running
    And the service-level objectives "TTFT p99 <= <ttft_ms> ms, TPOT p99 <= <tpot_ms> ms"
    When the concurrency is swept over <levels> users, <seconds> seconds each, with streamed plain completions of <tokens> tokens
    Then the highest sustainable concurrency is at least <users> users

    Examples: SmolLM2-135M, 4 slots, 2 dedicated cores
      | levels         | seconds | tokens | ttft_ms | tpot_ms | users |
      | 1, 2, 4, 8, 16 | 30      | 16     | 2000    | 200     | 2     |
