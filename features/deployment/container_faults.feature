@docker @atlas @faults @deployment @req.INT-DOCKER-CPU
Feature: A containerised server survives damaged files, full disks, memory pressure and crashes
  The fault tests, for real: files edited on the host through the volume, a memory folder on a
  size-limited tmpfs that really fills up, a container with a memory limit under a burst of
  requests, and a container killed while it saves.

  @corruption @req.MEM-CORRUPT
  Scenario: A memory file corrupted on the host through the volume is refused as corruption and the memory in use stays as it was
    Given the ATLAS server container is running
    And the memory has read "The cartographer drew the coastline from the lighthouse logs."
    And the memory is saved as "volume-stamped.atlas"
    When the memory file "volume-stamped.atlas" is corrupted at byte 100
    And I load the memory file "volume-stamped.atlas"
    Then the load is refused as corruption
    And the memory in use is unchanged
    And the server is healthy

  @req.MEM-DISK-FULL
  Scenario: A save on a full disk is refused for lack of space and the previous file stays intact and loadable
    Given an ATLAS server container whose memory folder is a 400 KiB tmpfs
    And the memory has read "The tide tables were pinned to the harbour office door."
    And the memory is saved as "tmpfs-previous.atlas" inside the container
    And the memory has read "A second text the server will fail to save over the first one."
    When I save the memory as "tmpfs-previous.atlas"
    And I load the memory file "tmpfs-previous.atlas"
    Then the save was refused for lack of disk space
    And the memory file "tmpfs-previous.atlas" inside the container is byte-for-byte what it was before
    And the memory is back as it was when saved to "tmpfs-previous.atlas"
    And the server is healthy
    And the image's health check passes inside the container

  @load @req.ERR-ADMISSION
  Scenario: A burst of 50 requests against a container with 1 GiB of memory is partly refused with 503 and the container survives
    Given an ATLAS server container limited to 1 GiB of memory, with a memory budget of 1 MB
    When 50 long ATLAS completions are sent at once through 20 workers
    Then the container's memory limit is 1 GiB
    And at least one of them succeeds
    And at least one of them is refused with 503
    And every refusal is a 503 whose message mentions "memory"
    And no request went unanswered
    And the container is still running and was not killed for lack of memory
    And within 30 seconds the server reports no active requests
    And the server is healthy

  @req.MEM-KILLED-MID-SAVE @req.FUNC-MEMORY-FILE
  Scenario: A container killed in the middle of saves starts again from the last good file
    Given a fresh ATLAS server container that starts from the memory file "crash.atlas"
    When 4 clients keep saving the memory as "crash.atlas" while it keeps reading new text
    And the container is killed after 60 completed saves
    And the container is started again
    Then the server exited with code 137
    And the kill cut off saves in flight
    And the status names "crash.atlas" as the memory's source
    And the memory fingerprint is one that a completed save answered
    And the server is healthy
