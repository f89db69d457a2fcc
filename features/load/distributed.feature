@load
Feature: Load spread over a Locust master and two workers, with the suite's request mix and figures
  Load beyond one machine runs on Locust (scripts/locustfile.py; README, "Distributed load"):
  one master, any number of workers. Here the master and two workers run on this machine,
  headless, for a few seconds. The users send what the suite's own engine sends, built by the
  same functions: ATLAS completions, streamed ATLAS completions and plain completions (3 : 2 : 1)
  and save/load cycles whose load must give back the saved fingerprint. Locust's statistics are
  mapped to the suite's figure names: end-to-end latency, TTFT, TPOT and ITL (docs/load.md).
  No bound here is a time: the run checks that the load was spread and served, not how fast.

  @req.LOAD-USERS @atlas
  Scenario: Load spread over a Locust master and two workers is served without failures
    Given the server under test is running
    When Locust runs 4 users sending 4-token completions for 8 seconds from a master and 2 workers on this machine
    Then all 2 Locust workers connected and ended cleanly
    And every Locust entry of the request mix ran: ATLAS completion, streamed ATLAS completion, plain completion, memory save, memory load, TTFT, ITL
    And no Locust request failed
    And the Locust figures give latency_ms, ttft_ms and itl_ms percentiles
    And the server is healthy
