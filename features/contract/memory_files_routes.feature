@atlas @memory @contract
Feature: Contract of the memory file routes: statuses and JSON shapes
  What /v1/atlas/memory/save, list, load, delete and reset answer, field by field, for server
  implementers. The business features say the same in domain words.

  Background:
    Given the ATLAS server is running

  @req.API-MEM-SAVE @req.API-MEMORY-DIR
  Scenario: POST /v1/atlas/memory/save answers 200 with the file, the memory and its fingerprint
    Given the memory has read "The lighthouse keeper counted the ships every night."
    When I POST "/v1/atlas/memory/save" with:
      """
      {"filename": "contract-saved.atlas"}
      """
    Then the response status is 200
    And the response matches the "memory_save" schema
    And the JSON at "filename" is "contract-saved.atlas"
    And the JSON at "memory" is "default"

  @req.API-MEM-LIST
  Scenario: GET /v1/atlas/memory/list answers 200 with every file's name, size and time
    Given the memory is saved as "contract-listed.atlas"
    When I GET "/v1/atlas/memory/list"
    Then the response status is 200
    And the response matches the "memory_list" schema

  @req.API-MEM-LOAD
  Scenario: POST /v1/atlas/memory/load answers 200 with the file it read
    Given the memory is saved as "contract-loaded.atlas"
    When I POST "/v1/atlas/memory/load" with:
      """
      {"filename": "contract-loaded.atlas"}
      """
    Then the response status is 200
    And the response matches the "memory_load" schema
    And the JSON at "filename" is "contract-loaded.atlas"

  @req.API-MEM-DELETE
  Scenario: POST /v1/atlas/memory/delete answers 200
    Given the memory is saved as "contract-deleted.atlas"
    When I POST "/v1/atlas/memory/delete" with:
      """
      {"filename": "contract-deleted.atlas"}
      """
    Then the response status is 200
    And the response matches the "memory_delete" schema

  @req.MEM-MISSING
  Scenario: Loading a deleted file is a 404 in the error envelope
    Given the memory is saved as "contract-gone.atlas"
    And the memory file "contract-gone.atlas" has been deleted
    When I POST "/v1/atlas/memory/load" with:
      """
      {"filename": "contract-gone.atlas"}
      """
    Then the response status is 404
    And the response matches the "error" schema

  @req.API-MEM-DELETE @req.MEM-MISSING
  Scenario: Deleting a file that does not exist is a 404 naming "filename"
    When I POST "/v1/atlas/memory/delete" with:
      """
      {"filename": "contract-never-there.atlas"}
      """
    Then the response status is 404
    And the response matches the "error" schema
    And the JSON at "error.param" is "filename"

  @req.API-MEM-RESET
  Scenario: POST /v1/atlas/memory/reset answers 200 naming the memory
    When I POST "/v1/atlas/memory/reset" with:
      """
      {}
      """
    Then the response status is 200
    And the response matches the "memory_reset" schema
    And the JSON at "memory" is "default"

  @req.MEM-CORRUPT
  Scenario: A load of a damaged file is a 400 in the error envelope whose message says "corruption"
    Given the memory has read "The librarian sorted old maps of the coast by year."
    And the memory is saved as "contract-damaged.atlas"
    When the memory file "contract-damaged.atlas" is corrupted at byte 100
    And I POST "/v1/atlas/memory/load" with:
      """
      {"filename": "contract-damaged.atlas"}
      """
    Then the response status is 400
    And the response matches the "error" schema
    And the JSON at "error.message" contains "corruption"
