@atlas @memory
Feature: Memory files: save, list, load, delete and reset
  A memory can be written to a named file in the memory folder and read back later: the file
  holds exactly the memory, so a loaded memory has the fingerprint it had when saved and
  continues exactly as the original would.

  Background:
    Given the ATLAS server is running

  @smoke
  @req.API-MEM-SAVE @req.API-MEM-LIST @req.API-MEMORY-DIR
  Scenario: A saved memory is in the memory folder and in the list, with its size
    Given the memory has read "The lighthouse keeper counted the ships every night."
    When I save the memory as "files-listed.atlas"
    Then the memory file "files-listed.atlas" holds the memory as it is now
    And the memory folder holds "files-listed.atlas"
    And the memory list shows "files-listed.atlas" with the size the save reported

  @req.API-MEM-LIST
  Scenario: The memory list gives each file its size and modification time
    When I save the memory as "files-described.atlas"
    Then the memory list shows "files-described.atlas" with the size the save reported
    And the memory list gives "files-described.atlas" the modification time of the file in the memory folder

  @req.API-MEM-LOAD @req.FUNC-EXACT-RESTORE
  Scenario: A loaded memory is exactly the memory that was saved
    Given the memory has read "The harbour master logged every ship that entered the bay."
    And the memory is saved as "files-roundtrip.atlas"
    And the memory has read "Something else entirely, so that the memory moves on."
    When I load the memory file "files-roundtrip.atlas"
    Then the memory is back as it was when saved to "files-roundtrip.atlas"

  @req.FUNC-EXACT-RESTORE
  Scenario: A loaded memory continues exactly as the original would
    Given the memory has read "Grey gulls circled the fishing boats while the nets came in."
    And the memory is saved as "files-continue.atlas"
    And the memory has read "The bakers sold warm bread to the early travellers."
    When I load the memory file "files-continue.atlas"
    And the memory reads "The bakers sold warm bread to the early travellers."
    Then the memory learns the same from that text as before the load

  @req.API-MEM-DELETE
  Scenario: A deleted file is gone from the list
    Given the memory is saved as "files-deleted.atlas"
    When I delete the memory file "files-deleted.atlas"
    Then the memory file "files-deleted.atlas" is gone

  @req.MEM-MISSING @req.MEM-LOAD-KEEPS
  Scenario: Loading a file that does not exist is refused and changes nothing
    Given the memory has read "The miller weighed each sack of flour twice."
    When I load the memory file "files-never-saved.atlas"
    Then the load is refused: there is no memory file "files-never-saved.atlas"
    And the memory in use is unchanged

  @req.API-MEM-DELETE @req.MEM-MISSING
  Scenario: Deleting a file that does not exist is refused, naming the file name
    When I delete the memory file "files-never-there.atlas"
    Then the delete is refused: there is no memory file "files-never-there.atlas"

  @req.MEM-NAMES @req.API-MEM-SAVE
  Scenario: A name of 128 characters, the longest allowed, is saved and listed
    When I save the memory as "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.atlas"
    Then the memory file "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.atlas" holds the memory as it is now
    And the memory list shows "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.atlas"

  @req.API-MEM-RESET
  Scenario: Resetting the memory returns it to its initial state
    Given the memory has been reset
    And the memory has read "A slow river carried fallen leaves past the mill."
    When I reset the memory
    Then the memory is back in its initial state

  @req.API-MEM-RESET
  Scenario: A reset memory learns exactly as a fresh one: nothing of the optimiser is kept
    Given the memory has been reset
    And the memory has read "The harbour master logged every ship that entered the bay before dawn, and the gulls circled."
    And the memory has read "A slow river carried fallen leaves past the mill while the miller sang to the wheel."
    When I reset the memory
    And the memory reads "The harbour master logged every ship that entered the bay before dawn, and the gulls circled."
    Then the memory's fingerprint is the one it had after first reading that text

  @req.MEM-KILLED-MID-SAVE @req.MEM-DISK-FULL
  Scenario: Saving over a file replaces it whole, so a crash mid-save cannot leave it half written
    Given the memory is saved as "replaced.atlas"
    And a backup reader holds the memory file "replaced.atlas" open
    And the memory has read "The night watchman added three lines to the harbour log."
    When I save the memory as "replaced.atlas"
    Then the backup reader still reads the memory file "replaced.atlas" it opened, whole
