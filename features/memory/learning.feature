@atlas @memory
Feature: The memory learns, and named memories stay apart
  The memory memorises which token follows which in the text it reads, so re-reading a text
  recalls it better. A request naming a memory with "memory_file" reads and updates only that
  memory.

  Background:
    Given the ATLAS server is running

  @smoke
  @req.FUNC-LEARNS @req.FUNC-COUNTERS
  Scenario: Re-reading a text gives a lower recall error than the first read
    Given the memory has been reset
    When the memory reads the text:
      """
      The harbour master logged every ship that entered the bay before dawn. Grey gulls
      circled the fishing boats while the nets were hauled aboard, and in the market square
      the bakers sold warm bread to the early travellers.
      """
    And the memory reads the same text again
    Then the second read's omega loss is lower than the first's
    And the omega losses are real numbers

  @req.FUNC-COUNTERS @req.FUNC-FINGERPRINT
  Scenario: Reading updates the memory's counters and fingerprint
    When the memory reads "The librarian sorted old maps of the coast."
    Then the memory counters have grown
    And the memory fingerprint has changed

  @req.FUNC-NAMED
  Scenario: Named memories never see each other's text
    Given the memory "named-bravo.atlas" has read "Bravo reads about rivers and mills."
    When the memory "named-alpha.atlas" reads "Alpha reads about harbours and ships."
    Then the atlas block names the memory "named-alpha.atlas"
    And the fingerprint of the memory "named-bravo.atlas" is unchanged
    And the memory fingerprint is unchanged
    And the memory list shows "named-alpha.atlas"
