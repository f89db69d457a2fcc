@atlas @faults
Feature: A memory that fails inside a request gives a clear error, never a dead server
  When the memory a request names cannot be used, the client gets an answer that says why, and
  the server keeps serving everyone else.

  Background:
    Given the ATLAS server is running

  @req.ERR-DEGRADE @req.MEM-CORRUPT
  Scenario: A request whose named memory file is damaged gets a clear error
    Given the memory is saved as "damaged-session.atlas"
    When the memory file "damaged-session.atlas" is corrupted at byte 100
    And a completion names the memory file "damaged-session.atlas"
    Then the completion is refused as corruption of its memory file
    And the server is healthy
    And a new completion still succeeds

  @req.ERR-DEGRADE
  Scenario: A request that fails on a damaged memory file gives its memory reservation back
    Given an ATLAS server with a memory budget of 1 MB
    And the memory is saved as "damaged-budget.atlas"
    When the memory file "damaged-budget.atlas" is corrupted at byte 100
    And a completion names the memory file "damaged-budget.atlas"
    And a long ATLAS completion is sent
    Then the long ATLAS completion is answered: no memory reservation was kept
