@docker @atlas @memory @deployment @req.INT-DOCKER-CPU
Feature: A memory outlives the container that learned it
  The memory folder is a volume: a host folder mounted at /atlas-memory. What a container saves
  there stays when the container is removed, and a new container reads it back exactly as it
  was saved. With persistence on, docker stop (SIGTERM) is a graceful shutdown that writes the
  memory first.

  @req.FUNC-EXACT-RESTORE
  Scenario: A memory saved into the volume is loaded by a new container with the same fingerprint
    Given a fresh ATLAS server container with its memory folder mounted from the host
    And the memory has read "The ferry crossed the strait twice a day in calm weather."
    And the memory is saved as "carried.atlas"
    And I note the memory fingerprint
    Then the memory folder holds "carried.atlas"
    When the container is removed
    And a new container is started on the same memory folder
    Then the memory fingerprint has changed
    When I load the memory file "carried.atlas"
    Then the response status is 200
    And the response matches the "memory_load" schema
    And the memory fingerprint is the one noted

  @req.FUNC-PERSIST @req.ERR-SHUTDOWN
  Scenario: With persistence on, docker stop writes the memory and a new container picks it up
    Given a fresh ATLAS server container that keeps its memory across restarts
    And the memory has read "Lanterns were lit along the quay as the fishing fleet came home."
    And I note the memory fingerprint
    When the container is stopped
    Then the server exited with code 0
    And the memory folder holds a file ending in "_memory.atlas"
    When a new container is started on the same memory folder
    Then the memory fingerprint is the one noted
    And the status names "_memory.atlas" as the memory's source
