@docker @atlas @memory @deployment @req.INT-DOCKER-CPU
Feature: A memory outlives the container that learned it
  The memory folder is a volume: a host folder mounted at /atlas-memory. What a container saves
  there stays when the container is removed, and a new container reads it back exactly as it
  was saved. With persistence on, docker stop (SIGTERM) is a graceful shutdown that writes the
  memory first.

  @req.FUNC-EXACT-RESTORE
  Scenario: A memory saved into the volume is loaded by a new container exactly as it was saved
    Given a fresh ATLAS server container with its memory folder mounted from the host
    And the memory has read "The ferry crossed the strait twice a day in calm weather."
    And the memory is saved as "carried.atlas"
    When the container is removed
    And a new container is started on the same memory folder
    And I load the memory file "carried.atlas"
    Then the memory folder holds "carried.atlas"
    And the new container started with a memory other than the saved one
    And the memory is back as it was when saved to "carried.atlas"

  @req.FUNC-PERSIST @req.ERR-SHUTDOWN
  Scenario: With persistence on, docker stop writes the memory and a new container starts with it
    Given a fresh ATLAS server container that keeps its memory across restarts
    And the memory has read "Lanterns were lit along the quay as the fishing fleet came home."
    When the container is stopped
    And a new container is started on the same memory folder
    Then the stopped container exited with code 0
    And the memory folder holds a file ending in "_memory.atlas"
    And the new container started with the memory the stopped container had
    And the status names "_memory.atlas" as the memory's source
