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
  Scenario: A file overwritten with CORRUPTED_DATA at byte 100 is refused as corruption and the memory in use stays as it was
    Given the memory is saved as "stamped-100.atlas"
    When the memory file "stamped-100.atlas" is corrupted at byte 100
    And I load the memory file "stamped-100.atlas"
    Then the load is refused as corruption
    And the memory in use is unchanged
    And the server is healthy

  @req.MEM-LOAD-KEEPS
  Scenario Outline: A memory file <damage> is refused as <refusal>, and the memory in use stays as it was
    Given the memory is saved as "<file>"
    When the memory file "<file>" is <damage>
    And I load the memory file "<file>"
    Then the load is refused as <refusal>
    And the memory in use is unchanged
    And the server is healthy

    @req.MEM-CORRUPT
    Examples: damaged bytes
      | damage                                    | file                | refusal    |
      | corrupted by one flipped byte at byte 100 | damage-flip.atlas   | corruption |
      | corrupted at byte 20                      | damage-header.atlas | corruption |
      | truncated to 50 bytes                     | damage-trunc.atlas  | corruption |
      | cut short by 32 bytes                     | damage-nosum.atlas  | corruption |
      | emptied                                   | damage-empty.atlas  | corruption |
      | stamped with a wrong magic                | damage-magic.atlas  | corruption |

    @req.MEM-VERSION @req.MEM-MISMATCH @req.MEM-FORMAT
    Examples: files this server cannot use
      | damage                                  | file               | refusal                       |
      | stamped with format version 2           | damage-v2.atlas    | an unsupported format version |
      | replaced by a memory from another model | damage-other.atlas | a model mismatch              |
