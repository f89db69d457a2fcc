@atlas @faults
Feature: A client that hangs up mid-stream frees its slot
  Clients go away: browsers close, networks drop. The server must notice, free the slot and
  stay healthy.

  Background:
    Given the ATLAS server is running

  @smoke
  @req.ERR-DISCONNECT @req.QUAL-NO-CRASH
  Scenario: A client hangs up after the first chunk of a long stream
    When a client starts a long streamed completion and hangs up after the first chunk
    Then within 30 seconds the server reports no active requests
    And the server is healthy
    And a new completion still succeeds

  @req.ERR-DISCONNECT
  Scenario: A client that hangs up mid-stream gives its memory reservation back
    Given an ATLAS server with a memory budget of 1 MB
    When a client starts a long streamed completion and hangs up after the first chunk
    And a long ATLAS completion is sent
    Then the long ATLAS completion is answered: no memory reservation was kept
