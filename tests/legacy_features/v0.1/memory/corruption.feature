@atlas @memory @corruption
Feature: A damaged memory file is refused and the memory in use stays as it was
  Memory files live on disks, and disks, copies and people damage them. Loading a damaged file
  must fail with a clear error, leave the memory in use exactly as it was, and keep the
  server healthy.

  Background:
    Given the ATLAS server is running
    And the memory has read "The librarian sorted old maps of the coast by year."

  @smoke
  @req.MEM-CORRUPT @req.MEM-LOAD-KEEPS @req.QUAL-NO-CRASH
  Scenario: The founding document's corruption test: CORRUPTED_DATA at byte 100
    Given the memory is saved as "founding.atlas"
    And I note the memory fingerprint
    When the memory file "founding.atlas" is corrupted at byte 100
    And I POST "/v1/atlas/memory/load" with:
      """
      {"filename": "founding.atlas"}
      """
    Then the response status is 400
    And the response matches the "error" schema
    And the JSON at "error.message" contains "corruption"
    And the memory fingerprint is unchanged
    And the server is healthy

  @req.MEM-LOAD-KEEPS
  Scenario Outline: A memory file <damage> is refused with <status>
    Given the memory is saved as "<file>"
    And I note the memory in use
    When the memory file "<file>" is <damage>
    And I load the memory file "<file>"
    Then the load is refused with <status> and a message containing "<message>"
    And the memory in use is unchanged
    And the server is healthy

    @req.MEM-CORRUPT
    Examples: damaged bytes
      | damage                     | file                | status | message    |
      | corrupted at byte 100      | damage-100.atlas    | 400    | corruption |
      | corrupted at byte 20       | damage-header.atlas | 400    | corruption |
      | truncated to 50 bytes      | damage-trunc.atlas  | 400    | corruption |
      | cut short by 32 bytes      | damage-nosum.atlas  | 400    | corruption |
      | emptied                    | damage-empty.atlas  | 400    | corruption |
      | stamped with a wrong magic | damage-magic.atlas  | 400    | corruption |

    @req.MEM-VERSION @req.MEM-MISMATCH @req.MEM-FORMAT
    Examples: files this server cannot use
      | damage                                  | file                | status | message                          |
      | stamped with format version 2           | damage-v2.atlas     | 400    | unsupported memory file version |
      | replaced by a memory from another model | damage-other.atlas  | 409    | model mismatch                   |
