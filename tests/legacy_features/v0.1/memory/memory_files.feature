@atlas @memory
Feature: Memory files: save, list, load, delete and reset
  A memory can be written to a named file in the memory folder and read back later: the file
  holds exactly the memory, so a loaded memory has the fingerprint it had when saved and
  continues exactly as the original would.

  Background:
    Given the ATLAS server is running

  @smoke
  @req.API-MEM-SAVE @req.API-MEM-LIST @req.API-MEMORY-DIR
  Scenario: A saved memory appears in the list with its size
    Given the memory has read "The lighthouse keeper counted the ships every night."
    When I save the memory as "files-listed.atlas"
    Then the response status is 200
    And the response matches the "memory_save" schema
    And the JSON at "filename" is "files-listed.atlas"
    And the JSON at "memory" is "default"
    And the saved fingerprint is the memory's current fingerprint
    And the memory list shows "files-listed.atlas" with the size the save reported
    And the memory folder holds "files-listed.atlas"

  @req.API-MEM-LIST
  Scenario: The memory list describes every file
    Given the memory is saved as "files-described.atlas"
    When I GET "/v1/atlas/memory/list"
    Then the response status is 200
    And the response matches the "memory_list" schema
    And the memory list shows "files-described.atlas" with the size the save reported
    And the memory list gives "files-described.atlas" the modification time of the file in the memory folder

  @req.API-MEM-LOAD @req.FUNC-EXACT-RESTORE
  Scenario: A loaded memory has exactly the fingerprint it had when saved
    Given the memory has read "The harbour master logged every ship that entered the bay."
    And the memory is saved as "files-roundtrip.atlas"
    And I note the memory fingerprint
    And I note the memory in use
    And the memory has read "Something else entirely, so that the memory moves on."
    When I load the memory file "files-roundtrip.atlas"
    Then the response status is 200
    And the response matches the "memory_load" schema
    And the JSON at "filename" is "files-roundtrip.atlas"
    And the load reports the size the save reported
    And the memory fingerprint is the one noted
    And the memory's fingerprint, counters and omega loss are the ones noted
    And the status names "files-roundtrip.atlas" as the memory's source

  @req.FUNC-EXACT-RESTORE
  Scenario: A loaded memory continues exactly as the original would
    Given the memory has read "Grey gulls circled the fishing boats while the nets came in."
    And the memory is saved as "files-continue.atlas"
    When the memory reads "The bakers sold warm bread to the early travellers."
    And I remember the reported omega loss
    And I load the memory file "files-continue.atlas"
    And the memory reads "The bakers sold warm bread to the early travellers."
    Then the reported omega loss is the remembered one

  @req.API-MEM-DELETE @req.MEM-MISSING
  Scenario: A deleted file is gone
    Given the memory is saved as "files-deleted.atlas"
    When I delete the memory file "files-deleted.atlas"
    Then the response status is 200
    And the response matches the "memory_delete" schema
    And the memory list does not show "files-deleted.atlas"
    When I load the memory file "files-deleted.atlas"
    Then the response status is 404
    And the response matches the "error" schema

  @req.MEM-MISSING @req.MEM-LOAD-KEEPS
  Scenario: Loading a file that does not exist is a 404 and changes nothing
    Given the memory has read "The miller weighed each sack of flour twice."
    And I note the memory in use
    When I load the memory file "files-never-saved.atlas"
    Then the response status is 404
    And the response matches the "error" schema
    And the memory in use is unchanged

  @req.API-MEM-DELETE @req.MEM-MISSING
  Scenario: Deleting a file that does not exist is a 404
    When I delete the memory file "files-never-there.atlas"
    Then the response status is 404
    And the response matches the "error" schema
    And the JSON at "error.param" is "filename"

  @req.MEM-NAMES @req.API-MEM-SAVE
  Scenario: A name of 128 characters, the longest allowed, is saved and listed
    When I save the memory as "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.atlas"
    Then the response status is 200
    And the memory list shows "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.atlas"

  @req.API-MEM-RESET
  Scenario: Resetting the memory returns it to its initial state
    Given the memory has been reset
    And I note the memory fingerprint
    And the memory has read "A slow river carried fallen leaves past the mill."
    When I reset the memory
    Then the response status is 200
    And the response matches the "memory_reset" schema
    And the JSON at "memory" is "default"
    And the memory fingerprint is the one noted
    And the status reports 0 tokens memorized
    And the memory is in its initial state: no tokens memorized, no updates, no omega loss

  @req.API-MEM-RESET
  Scenario: A reset memory learns exactly as a fresh one: nothing of the optimiser is kept
    Given the memory has been reset
    And the memory has read "The harbour master logged every ship that entered the bay before dawn, and the gulls circled."
    And I note the memory fingerprint
    And the memory has read "A slow river carried fallen leaves past the mill while the miller sang to the wheel."
    When I reset the memory
    And the memory reads "The harbour master logged every ship that entered the bay before dawn, and the gulls circled."
    Then the memory fingerprint is the one noted

  @req.MEM-KILLED-MID-SAVE @req.MEM-DISK-FULL
  Scenario: Saving over a file replaces it whole, so a crash mid-save cannot leave it half written
    Given the memory is saved as "replaced.atlas"
    And a backup reader holds the memory file "replaced.atlas" open
    And the memory has read "The night watchman added three lines to the harbour log."
    When I save the memory as "replaced.atlas"
    Then the backup reader still reads the memory file "replaced.atlas" it opened, whole
