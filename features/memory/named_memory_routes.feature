@atlas @memory
Feature: Save, load and reset can address a named memory
  A request's memory_file names a memory of its own. Saving, loading and resetting can name
  that memory instead of the default one, and leave the default one alone.

  Background:
    Given the ATLAS server is running

  @req.API-MEM-NAMED
  Scenario: A named memory saved to a file and reset comes back from the file by name
    Given the memory "notebook.atlas" has read "The cartographer inked the river's new course."
    And the memory "notebook.atlas" is saved as "notebook-copy.atlas"
    And the memory "notebook.atlas" has been reset
    When I load "notebook-copy.atlas" into the memory "notebook.atlas"
    Then the memory "notebook.atlas" is back as it was saved
    And the memory in use is unchanged

  @req.API-MEM-NAMED
  Scenario: Saving a named memory writes that memory, not the default one
    Given the memory has been reset
    And the memory "ledger.atlas" has read "The clerk copied the harbour tolls into the ledger."
    When I save the memory "ledger.atlas" as "ledger-copy.atlas"
    Then the file holds the memory "ledger.atlas", not the default one

  @req.API-MEM-NAMED
  Scenario Outline: Saving or resetting a memory that was never used is refused as not found
    When I <request>
    Then the request is refused: there is no memory "never-used.atlas"

    Examples:
      | request                                         |
      | save the memory "never-used.atlas" as "x.atlas" |
      | reset the memory "never-used.atlas"             |

  @req.API-MEM-NAMED
  Scenario: Resetting a named memory leaves the default memory as it was
    Given the memory "almanac.atlas" has read "Tides rise twice a day along this part of the coast."
    And the memory has read "The ferry left at dawn with the mail and two passengers."
    When I reset the memory "almanac.atlas"
    Then the memory in use is unchanged
    And the fingerprint of the memory "almanac.atlas" has changed
