@atlas @faults @load
Feature: Too much ATLAS work at once is refused cleanly, never a crash
  Each ATLAS request reserves its estimated memory work; when the budget and the bounded wait
  queue are full the server answers 503 at once with a message about memory. The requests it
  accepted complete, and it never crashes.

  @req.ERR-ADMISSION @req.QUAL-NO-CRASH
  Scenario: Fifty long ATLAS requests at once against a 1 MB budget are served or refused cleanly, and the server stays healthy
    Given an ATLAS server with a memory budget of 1 MB
    And the server declares a memory budget of 1 MB
    When 50 long ATLAS completions are sent at once through 20 workers
    Then at least one of them succeeds
    And every refusal is a 503 whose message mentions "memory"
    And no request went unanswered
    And the server process is still running
    And within 30 seconds the server reports no active requests
    And the server is healthy
    And the health check answered 200 all along

  @req.ERR-ADMISSION @req.ERR-ENVELOPE
  Scenario: A burst larger than the declared wait queue is partly refused at once, in the error envelope
    Given an ATLAS server with a memory budget of 1 MB
    When 50 long ATLAS completions are sent at once through 20 workers
    Then at least one of them was refused
    And every refusal is a 503 whose message mentions "memory"

  @req.ERR-ADMISSION
  Scenario: An ATLAS request the engine turns down gives its memory reservation back
    Given an ATLAS server with a memory budget of 1 MB
    When an ATLAS completion with a prompt longer than the whole context is sent
    And a long ATLAS completion is sent
    Then the long ATLAS completion is answered: no memory reservation was kept
