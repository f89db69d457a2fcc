@atlas @memory
Feature: A saved memory file has the version 1 layout
  Other tools, and other servers, read memory files: a saved file must be exactly the
  documented format - magic ATLASMEM, format version 1, header length, a JSON header whose
  array table describes every byte up to the trailer, and a trailer that is the SHA-256 of
  every byte before it.

  Background:
    Given the ATLAS server is running

  @req.MEM-FORMAT @req.API-MEM-SAVE
  Scenario: A saved memory file is a format version 1 file, every byte accounted for
    Given the memory has read "The ferryman counted the crates of salt before the tide turned."
    When I save the memory as "format.atlas"
    Then the memory file "format.atlas" holds the memory as it is now
    And the memory file "format.atlas" has the format version 1 layout
    And the memory list shows "format.atlas" with the size the save reported
