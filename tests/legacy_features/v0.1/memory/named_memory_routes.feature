@atlas @memory
Feature: Save, load and reset can address a named memory
  A request's memory_file names a memory of its own. The memory routes take {"memory": NAME}
  to act on that memory instead of the default one, and leave the default one alone.

  Background:
    Given the ATLAS server is running

  @req.API-MEM-NAMED
  Scenario: A named memory is saved, reset and loaded back by name
    Given the memory "notebook.atlas" has read "The cartographer inked the river's new course."
    And I note the memory fingerprint
    When I POST "/v1/atlas/memory/save" with:
      """
      {"filename": "notebook-copy.atlas", "memory": "notebook.atlas"}
      """
    Then the response status is 200
    And the response matches the "memory_save" schema
    And the JSON at "memory" is "notebook.atlas"
    And I remember the JSON at "fingerprint" as "saved"
    When I POST "/v1/atlas/memory/reset" with:
      """
      {"memory": "notebook.atlas"}
      """
    Then the response status is 200
    And the JSON at "memory" is "notebook.atlas"
    And the JSON at "fingerprint" differs from the remembered "saved"
    When I POST "/v1/atlas/memory/load" with:
      """
      {"filename": "notebook-copy.atlas", "memory": "notebook.atlas"}
      """
    Then the response status is 200
    And the response matches the "memory_load" schema
    And the JSON at "fingerprint" equals the remembered "saved"
    And the memory fingerprint is the one noted

  @req.API-MEM-NAMED
  Scenario: Saving a named memory writes that memory, not the default one
    Given the memory has been reset
    And the memory "ledger.atlas" has read "The clerk copied the harbour tolls into the ledger."
    When I POST "/v1/atlas/memory/save" with:
      """
      {"filename": "ledger-copy.atlas", "memory": "ledger.atlas"}
      """
    Then the response status is 200
    And the JSON at "memory" is "ledger.atlas"
    And the saved fingerprint differs from the memory's current fingerprint

  @req.API-MEM-NAMED
  Scenario Outline: <route> of a memory that was never used is a 404
    When I POST "<route>" with:
      """
      <body>
      """
    Then the response status is 404
    And the response matches the "error" schema
    And the JSON at "error.param" is "memory"

    Examples:
      | route                  | body                                                   |
      | /v1/atlas/memory/save  | {"filename": "x.atlas", "memory": "never-used.atlas"}  |
      | /v1/atlas/memory/reset | {"memory": "never-used.atlas"}                         |

  @req.API-MEM-NAMED
  Scenario: Resetting a named memory leaves the default memory as it was
    Given the memory "almanac.atlas" has read "Tides rise twice a day along this part of the coast."
    And the memory has read "The ferry left at dawn with the mail and two passengers."
    And I note the fingerprint of the memory "almanac.atlas"
    And I note the memory in use
    When I reset the memory "almanac.atlas"
    Then the memory in use is unchanged
    And the fingerprint of the memory "almanac.atlas" has changed
