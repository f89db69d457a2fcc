@atlas @completions
Feature: An invalid ATLAS parameter is refused before any work is done
  An unknown key inside "atlas", a wrong type or a value out of range is a 400 in the OpenAI
  error envelope whose "param" names the field with its dotted path, and the memory stays as
  it was.

  Background:
    Given the ATLAS server is running
    And I note the memory fingerprint

  @req.API-EXT-INVALID
  Scenario Outline: The ATLAS extension <extension> is refused, naming <param>
    When I send a text completion with the ATLAS extension <extension>
    Then the completion is refused as an invalid request naming "<param>"
    And the memory fingerprint is unchanged

    Examples: window size
      | extension                                | param             |
      | {"enabled": true, "window_size": 0}      | atlas.window_size |
      | {"enabled": true, "window_size": -1}     | atlas.window_size |
      | {"enabled": true, "window_size": "big"}  | atlas.window_size |
      | {"enabled": true, "window_size": 100000} | atlas.window_size |
      | {"enabled": true, "window_size": 2.5}    | atlas.window_size |
      | {"enabled": true, "window_size": true}   | atlas.window_size |

    Examples: blend ratio
      | extension                               | param             |
      | {"enabled": true, "blend_ratio": 1.5}   | atlas.blend_ratio |
      | {"enabled": true, "blend_ratio": -0.1}  | atlas.blend_ratio |
      | {"enabled": true, "blend_ratio": 1.001} | atlas.blend_ratio |
      | {"enabled": true, "blend_ratio": true}  | atlas.blend_ratio |
      | {"enabled": true, "blend_ratio": "x"}   | atlas.blend_ratio |

    Examples: switches and unknown keys
      | extension                           | param         |
      | {"enabled": "yes"}                  | atlas.enabled |
      | {"enabled": 1}                      | atlas.enabled |
      | {"enabled": 0}                      | atlas.enabled |
      | {"enabled": true, "colour": "blue"} | atlas.colour  |
      | "on"                                | atlas         |

    @req.MEM-NAMES
    Examples: memory names
      | extension                                      | param             |
      | {"enabled": true, "memory_file": "../x.atlas"} | atlas.memory_file |
      | {"enabled": true, "memory_file": "a/b.atlas"}  | atlas.memory_file |
      | {"enabled": true, "memory_file": ""}           | atlas.memory_file |
      | {"enabled": true, "memory_file": "noext"}      | atlas.memory_file |

  @req.API-EXT-INVALID
  Scenario Outline: An ATLAS window size of <window> is refused, naming atlas.window_size
    When I send a text completion with an ATLAS window size of <window>
    Then the completion is refused as an invalid request naming "atlas.window_size"
    And the memory fingerprint is unchanged

    Examples:
      | window               |
      | the context size + 1 |
      | 0                    |

  @req.API-EXT-INVALID
  Scenario Outline: A disabled ATLAS extension is still validated (<extension>)
    When I send a text completion with the ATLAS extension <extension>
    Then the completion is refused as an invalid request naming "<param>"
    And the memory fingerprint is unchanged

    Examples:
      | extension                               | param             |
      | {"enabled": false, "window_size": 0}    | atlas.window_size |
      | {"enabled": false, "blend_ratio": 2}    | atlas.blend_ratio |
      | {"enabled": false, "colour": "blue"}    | atlas.colour      |
