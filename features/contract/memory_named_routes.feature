@atlas @memory @contract
Feature: Contract of the memory routes for a named memory: {"memory": NAME}
  Save, load and reset take {"memory": NAME} to act on a named memory; every answer names the
  memory it acted on, and a memory that was never used is a 404 naming "memory".

  Background:
    Given the ATLAS server is running
    And the memory "contract-notebook.atlas" has read "The cartographer inked the river's new course."

  @req.API-MEM-NAMED
  Scenario: POST /v1/atlas/memory/save with a memory answers 200 naming that memory
    When I POST "/v1/atlas/memory/save" with:
      """
      {"filename": "contract-notebook-copy.atlas", "memory": "contract-notebook.atlas"}
      """
    Then the response status is 200
    And the response matches the "memory_save" schema
    And the JSON at "memory" is "contract-notebook.atlas"

  @req.API-MEM-NAMED
  Scenario: POST /v1/atlas/memory/reset with a memory answers 200 naming that memory
    When I POST "/v1/atlas/memory/reset" with:
      """
      {"memory": "contract-notebook.atlas"}
      """
    Then the response status is 200
    And the response matches the "memory_reset" schema
    And the JSON at "memory" is "contract-notebook.atlas"

  @req.API-MEM-NAMED
  Scenario: POST /v1/atlas/memory/load with a memory answers 200 with the saved fingerprint
    Given the memory "contract-notebook.atlas" is saved as "contract-notebook-load.atlas"
    When I POST "/v1/atlas/memory/load" with:
      """
      {"filename": "contract-notebook-load.atlas", "memory": "contract-notebook.atlas"}
      """
    Then the response status is 200
    And the response matches the "memory_load" schema
    And the JSON at "memory" is "contract-notebook.atlas"

  @req.API-MEM-NAMED
  Scenario Outline: <route> of a memory that was never used is a 404 naming "memory"
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
