@atlas @performance @req.PERF-OVERHEAD
Feature: ATLAS adds less than 10 ms to a completion
  The founding document bounds ATLAS's overhead against standard inference at 10 ms. The same
  1-token completion is sent with ATLAS on and off, one request at a time, in interleaved pairs
  whose order alternates, so a slow moment of a shared machine hits both members of a pair.
  The overhead is the median of the per-pair differences (ATLAS on minus ATLAS off).

  Scenario Outline: ATLAS on against <against>
    Given the ATLAS server is running
    When I send <pairs> interleaved pairs of the same 1-token completion, with ATLAS and against <against>
    Then every paired request succeeded
    And the median of the paired differences is under <bound_ms> ms

    Examples: the founding document's bound
      | pairs | against                                  | bound_ms |
      | 150   | the same server without the atlas object | 10       |
      | 150   | a plain server started without ATLAS     | 10       |
