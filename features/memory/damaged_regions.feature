@atlas @memory @corruption
Feature: Damage anywhere in a memory file is refused, and the memory in use stays as it was
  A memory file is a prefix (magic, format version, header length), a header with the table of
  the arrays that follow, the arrays themselves (the parameters and the optimiser state, such as
  momentum) and a trailer: the SHA-256 of every byte before it. A flipped byte, a stamp, a
  truncation or a forged trailer in any of these regions must be refused as corruption, with
  the memory in use unchanged - fingerprint, counters and source - and the server healthy.
  The suite finds each region from the file's own array table, so any conforming server's
  files can be checked.

  Background:
    Given the ATLAS server is running
    And the memory has read "The ferryman counted the crates of salt before the tide turned."

  @req.MEM-CORRUPT @req.MEM-LOAD-KEEPS
  Scenario Outline: A file with one byte flipped in <region> is refused as corruption
    Given the memory is saved as "flipped.atlas"
    When one byte of the memory file "flipped.atlas" is flipped in <region>
    And I load the memory file "flipped.atlas"
    Then the load is refused as corruption
    And the memory in use is unchanged
    And the server is healthy

    Examples: regions
      | region             |
      | the magic          |
      | the format version |
      | the header length  |
      | the header         |
      | the first array    |
      | the momentum array |
      | the last array     |
      | the trailer        |

  @req.MEM-CORRUPT @req.MEM-LOAD-KEEPS
  Scenario Outline: A file stamped with CORRUPTED_DATA in <region> is refused as corruption
    Given the memory is saved as "stamped.atlas"
    When the memory file "stamped.atlas" is stamped with CORRUPTED_DATA in <region>
    And I load the memory file "stamped.atlas"
    Then the load is refused as corruption
    And the memory in use is unchanged
    And the server is healthy

    Examples: regions
      | region             |
      | the header         |
      | the first array    |
      | the momentum array |
      | the trailer        |

  @req.MEM-CORRUPT @req.MEM-LOAD-KEEPS
  Scenario Outline: A file truncated <cut> is refused as corruption
    Given the memory is saved as "truncated.atlas"
    When the memory file "truncated.atlas" is truncated <cut>
    And I load the memory file "truncated.atlas"
    Then the load is refused as corruption
    And the memory in use is unchanged
    And the server is healthy

    Examples: cut points
      | cut                     |
      | inside the header       |
      | inside the first array  |
      | inside the last array   |
      | just before the trailer |
      | inside the trailer      |
      | one byte short          |

  @req.MEM-LOAD-KEEPS
  Scenario Outline: A valid trailer over a changed <part> is refused as <refusal>
    Given the memory is saved as "forged.atlas"
    When the memory file "forged.atlas" has its trailer recomputed over a changed <part>
    And I load the memory file "forged.atlas"
    Then the load is refused as <refusal>
    And the memory in use is unchanged
    And the server is healthy

    @req.MEM-CORRUPT
    Examples: changes the file's own structure gives away
      | part          | refusal    |
      | header length | corruption |
      | array table   | corruption |
      | first array   | corruption |

    @req.MEM-MISMATCH
    Examples: a file that now claims another model
      | part              | refusal          |
      | model fingerprint | a model mismatch |

  @req.MEM-CORRUPT @req.MEM-LOAD-KEEPS
  Scenario: A file resealed around another memory's arrays is refused as corruption
    Given the memory is saved as "donor.atlas"
    And the memory has read "Later the ferryman wrote the tally into a ledger by lamplight."
    And the memory is saved as "spliced.atlas"
    When the memory file "spliced.atlas" is resealed around the arrays of "donor.atlas"
    And I load the memory file "spliced.atlas"
    Then the load is refused as corruption
    And the memory in use is unchanged
    And the server is healthy

  @req.MEM-CORRUPT @req.MEM-LOAD-KEEPS
  Scenario Outline: <harm> in any region, every array of the table included, is refused
    Given the memory is saved as "every-region.atlas"
    When every region of the memory file "every-region.atlas" in turn gets <harm> and is loaded
    Then every damaged copy was refused as corruption
    And the memory in use is unchanged
    And the server is healthy

    Examples: harms
      | harm                     |
      | one flipped byte         |
      | the CORRUPTED_DATA stamp |

  @req.MEM-CORRUPT @req.MEM-LOAD-KEEPS
  Scenario: A single flipped byte anywhere in the file is refused as corruption
    Given the memory is saved as "sweep.atlas"
    When one byte at a time is flipped at 96 offsets across the memory file "sweep.atlas" and each copy is loaded
    Then every damaged copy was refused as corruption
    And the memory in use is unchanged
    And the server is healthy
