@atlas @faults @security @memory
Feature: Memory file names never leave the memory folder
  A memory file name is a plain name ending in ".atlas". Anything else - a slash, "..", an
  absolute path, an empty name - is a 400 naming "filename", and no file is touched.

  Background:
    Given the ATLAS server is running

  @req.MEM-NAMES @req.API-MEMORY-DIR
  Scenario Outline: The name "<name>" is refused by <action>
    When a client asks to <action> the memory file named "<name>"
    Then the file name is refused as not a plain memory file name
    And no file was created or removed in or around the memory folder, nor at "<name>"

    Examples: saving
      | action | name                                 |
      | save   | ../escape.atlas                      |
      | save   | ../../escape.atlas                   |
      | save   | /tmp/atlas-suite-absolute.atlas      |
      | save   | sub/dir.atlas                        |
      | save   | .hidden.atlas                        |
      | save   | noext                                |
      | save   |                                      |
      | save   | notes.atlas.tmp                      |
      | save   | aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.atlas |

    Examples: loading and deleting
      | action | name               |
      | load   | ../escape.atlas    |
      | load   | /etc/passwd        |
      | delete | ../escape.atlas    |
      | delete | ..                 |
