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
