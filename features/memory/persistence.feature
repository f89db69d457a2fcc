@atlas @memory @slow
Feature: The memory survives a graceful restart
  With --atlas-memory-persist (or --atlas-memory-file) the server writes the memory when it
  stops gracefully and reads it back when it starts, so nothing learned is lost.

  @req.FUNC-PERSIST @req.ERR-SHUTDOWN
  Scenario: With persistence on, the memory comes back after a restart
    Given a fresh ATLAS server that keeps its memory across restarts
    And the memory has read "The harbour master logged every ship that entered the bay."
    When the server is restarted gracefully
    Then the server exited with code 0
    And the memory folder holds a file ending in "_memory.atlas"
    And the memory still holds what it read

  @req.FUNC-MEMORY-FILE @req.ERR-SHUTDOWN
  Scenario: A memory file named at start-up is written at shutdown and read back
    Given a fresh ATLAS server that starts from the memory file "boot.atlas"
    And the memory has read "Grey gulls circled the fishing boats while the nets came in."
    When the server is restarted gracefully
    Then the server exited with code 0
    And the memory folder holds "boot.atlas"
    And the memory still holds what it read
