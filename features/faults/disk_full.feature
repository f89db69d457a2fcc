@atlas @faults @memory
Feature: A full disk never destroys a saved memory
  Saving is atomic: a temporary file, fsync, rename. When the disk fills up during a save, the
  server answers 507 and the previous file stays intact and loadable.

  @req.MEM-DISK-FULL
  Scenario: A save that runs out of disk space leaves the previous file intact
    Given the ATLAS server has saved a memory as "disk-previous.atlas"
    And an ATLAS server whose disk fills up after 64 KiB holds a copy of "disk-previous.atlas"
    And the memory has read "A new text the server will try to save over the old file."
    When I save the memory as "disk-previous.atlas"
    Then the save is refused for lack of disk space
    And the file "disk-previous.atlas" is byte-for-byte what it was before
    And the server is healthy
