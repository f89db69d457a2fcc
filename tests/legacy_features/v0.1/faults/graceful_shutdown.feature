@slow
Feature: A graceful stop lets the requests in flight finish
  On SIGTERM the server stops accepting new work, finishes what it already accepted within a
  bound, and exits 0: a rolling deployment loses no answer.

  @req.ERR-SHUTDOWN-INFLIGHT
  Scenario: A streamed answer in flight when the server is stopped still completes
    Given a newly started server under test
    When a long streamed completion is in flight when the server is asked to stop
    Then the stream ends with [DONE]
    And the server exited with code 0

  @atlas @req.ERR-SHUTDOWN
  Scenario: Interrupted with SIGINT, a persistent server writes its memory and exits 0
    Given a fresh ATLAS server that keeps its memory across restarts
    And the memory has read "The lighthouse keeper wound the clock before the evening storm."
    When the server is interrupted with SIGINT
    Then the server exited with code 0
    And the memory folder holds a file ending in "_memory.atlas"
