@atlas @status
Feature: Operators read and change the memory's defaults
  The memory's defaults (window size, blend ratio, learning rate, momentum, weight decay,
  Newton-Schulz steps) come from the start-up flags and can be changed while the server runs.
  A change applies to every request that leaves the value out; an invalid change is refused,
  names the field, and changes nothing. (The exact shapes are in
  features/contract/status_routes.feature.)

  Background:
    Given the ATLAS server is running
    And the ATLAS configuration is restored after this scenario

  @req.API-CONFIG-SET
  Scenario: A changed default applies to the requests that leave it out
    Given the default "window_size" has been changed to 128
    When I send a text completion with the ATLAS extension enabled
    Then the atlas block reports a window size of 128

  @req.API-CONFIG-FLAGS
  Scenario: The start-up flags set the memory's defaults
    Given an ATLAS server started with a window size of 64 and a blend ratio of 0.3
    When I ask for the ATLAS configuration
    Then the configuration reports "window_size" as 64
    And the configuration reports "blend_ratio" as 0.3

  @req.API-CONFIG-FLAGS
  Scenario: Requests on a server started with the flags get the flags' defaults
    Given an ATLAS server started with a window size of 64 and a blend ratio of 0.3
    When I send a text completion with the ATLAS extension enabled
    Then the atlas block reports a window size of 64
    And the atlas block reports a blend ratio of 0.3

  @req.API-CONFIG-SET
  Scenario Outline: An invalid configuration value is refused and names the field (<field> = <value>)
    When I change the default "<field>" to <value>
    Then the change is refused, naming the field "<field>"
    And the ATLAS configuration is unchanged

    Examples: window size
      | field       | value  |
      | window_size | 0      |
      | window_size | -1     |
      | window_size | "big"  |
      | window_size | 2.5    |
      | window_size | true   |
      | window_size | 100000 |

    Examples: the other tunables
      | field               | value |
      | blend_ratio         | 1.5   |
      | blend_ratio         | 1.001 |
      | blend_ratio         | -0.1  |
      | blend_ratio         | "x"   |
      | learning_rate       | 0     |
      | learning_rate       | 2     |
      | momentum            | 1     |
      | weight_decay        | -0.5  |
      | newton_schulz_steps | 21    |
      | newton_schulz_steps | -1    |
      | newton_schulz_steps | 2.5   |
      | momentum            | -0.1  |
      | weight_decay        | 1     |

    Examples: fields that cannot be changed
      | field          | value  |
      | feature_degree | 3      |
      | colour         | "blue" |

  # -- the rules at their edges: both ends of every range ---------------------------------------

  @req.API-CONFIG-SET
  Scenario Outline: A default <field> of <value>, at the edge of its range, is accepted
    When I change the default "<field>" to <value>
    Then the change is accepted

    Examples:
      | field               | value |
      | window_size         | 1     |
      | blend_ratio         | 0     |
      | blend_ratio         | 1     |
      | learning_rate       | 1     |
      | momentum            | 0     |
      | weight_decay        | 0     |
      | newton_schulz_steps | 0     |
      | newton_schulz_steps | 20    |

  @req.API-CONFIG-SET
  Scenario: A default window size equal to the context size is accepted
    When I change the default window size to the context size
    Then the configuration answers the window size that was sent

  @req.API-CONFIG-SET
  Scenario Outline: A default window size of <window> is refused and changes nothing
    When I change the default window size to <window>
    Then the change is refused, naming the field "window_size"
    And the ATLAS configuration is unchanged

    Examples:
      | window               |
      | the context size + 1 |
      | 0                    |

  @req.API-CONFIG-SET
  Scenario Outline: A change with one invalid field changes none of the others (<body>)
    When I change the defaults to <body>
    Then the change is refused, naming the field "<field>"
    And the ATLAS configuration is unchanged

    Examples:
      | body                                           | field       |
      | {"window_size": 100, "blend_ratio": 1.5}       | blend_ratio |
      | {"blend_ratio": 0.2, "window_size": 0}         | window_size |
      | {"learning_rate": 0.05, "colour": "blue"}      | colour      |
      | {"momentum": 0.5, "newton_schulz_steps": 99}   | newton_schulz_steps |

  @req.API-CONFIG-GET @req.API-CONFIG-SET
  Scenario Outline: The configuration reports the current <field> once it was changed
    Given the default "<field>" has been changed to <value>
    When I ask for the ATLAS configuration
    Then the configuration reports "<field>" as <value>

    Examples:
      | field               | value |
      | window_size         | 96    |
      | blend_ratio         | 0.35  |
      | learning_rate       | 0.05  |
      | momentum            | 0.5   |
      | weight_decay        | 0.01  |
      | newton_schulz_steps | 3     |

  @req.API-CONFIG-GET @req.API-STATUS
  Scenario: The status reports the current configuration, not the start-up one
    Given the default "window_size" has been changed to 80
    When I ask for the server status
    Then the status shows the default "window_size" as 80
