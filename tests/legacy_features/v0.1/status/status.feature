@atlas @status
Feature: The server describes its health, configuration and performance
  Operators read /v1/atlas/status, /v1/atlas/config and /v1/atlas/metrics to learn what the
  server runs with and how it performs. The shapes are fixed by docs/api.md, and the numbers
  are live measurements, not constants.

  Background:
    Given the ATLAS server is running

  @smoke
  @req.API-READY
  Scenario: The server is healthy once its model is loaded
    When I GET "/health"
    Then the response status is 200
    And the JSON at "status" is "ok"

  @smoke
  @req.API-STATUS @req.API-START
  Scenario: The status describes the model, the memory, the configuration and the limits
    When I GET "/v1/atlas/status"
    Then the response status is 200
    And the response matches the "atlas_status" schema
    And the JSON at "atlas.enabled" is true
    And the JSON at "limits.parallel" is 4
    And the JSON at "memory.fingerprint" matches "^[0-9a-f]{64}$"

  @req.API-STATUS-SPEED
  Scenario: The generation speed is measured from the start
    When I ask for the server status
    Then the reported generation speed is a positive number of tokens per second

  @req.API-STATUS-SPEED
  Scenario: The generation speed stays a live measurement after traffic
    Given I note the generation speed
    When I send a plain completion of 16 tokens
    Then the generation speed is still measured: positive, and not the value noted before

  @req.API-STATUS
  Scenario: Every completion is counted
    Given I note the status value "performance.requests_total"
    When I send a plain completion
    Then the status value "performance.requests_total" has grown

  @req.API-CONFIG-GET @req.FUNC-BLEND
  Scenario: The configuration lists the memory's defaults
    When I GET "/v1/atlas/config"
    Then the response status is 200
    And the response matches the "atlas_config" schema
    And the JSON at "blend_supported" is a boolean

  @req.API-METRICS
  Scenario: The metrics count requests, latency, throughput, memory work and errors
    Given the memory has read "Metrics count the work the memory does."
    When I GET "/v1/atlas/metrics"
    Then the response status is 200
    And the response matches the "atlas_metrics" schema
    And the JSON at "requests.total" is greater than 0
    And the JSON at "requests.atlas" is greater than 0
    And the JSON at "memory.updates" is greater than 0
    And the JSON at "throughput.tokens_per_second" is greater than 0

  @req.API-PROMETHEUS
  Scenario: The same counters are exposed to Prometheus
    When I GET "/metrics"
    Then the response status is 200
    And the response is Prometheus text with metrics named "atlas_*"

  @req.API-CONFIG-SET
  Scenario: Changing a default answers the new configuration
    Given the ATLAS configuration is restored after this scenario
    When I POST "/v1/atlas/config" with:
      """
      {"window_size": 128, "blend_ratio": 0.25}
      """
    Then the response status is 200
    And the response matches the "atlas_config" schema
    And the JSON at "window_size" is 128
    And the JSON at "blend_ratio" is 0.25

  @req.API-CONFIG-SET
  Scenario: A changed default applies to the requests that leave it out
    Given the ATLAS configuration is restored after this scenario
    And the default "window_size" has been changed to 128
    When I send a text completion with the ATLAS extension enabled
    Then the atlas block reports a window size of 128

  @req.API-CONFIG-FLAGS
  Scenario: The start-up flags set the memory's defaults
    Given an ATLAS server started with a window size of 64 and a blend ratio of 0.3
    When I GET "/v1/atlas/config"
    Then the response status is 200
    And the JSON at "window_size" is 64
    And the JSON at "blend_ratio" is 0.3

  @req.API-CONFIG-SET
  Scenario Outline: An invalid configuration value is refused and names the field (<field> = <value>)
    Given the ATLAS configuration is restored after this scenario
    When I POST "/v1/atlas/config" with:
      """
      {"<field>": <value>}
      """
    Then the response status is 400
    And the response matches the "error" schema
    And the error names the field "<field>"
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

  # -- the rules at their edges: both ends of every range, every counter after every operation --

  @req.API-CONFIG-SET
  Scenario Outline: A default <field> of <value>, at the edge of its range, is accepted
    Given the ATLAS configuration is restored after this scenario
    When I POST "/v1/atlas/config" with:
      """
      {"<field>": <value>}
      """
    Then the response status is 200
    And the JSON at "<field>" is <value>

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
    Given the ATLAS configuration is restored after this scenario
    When I change the default window size to the context size
    Then the configuration answers the window size that was sent

  @req.API-CONFIG-SET
  Scenario Outline: A default window size of <window> is refused and changes nothing
    Given the ATLAS configuration is restored after this scenario
    When I change the default window size to <window>
    Then the response status is 400
    And the error names the field "window_size"
    And the ATLAS configuration is unchanged

    Examples:
      | window               |
      | the context size + 1 |
      | 0                    |

  @req.API-CONFIG-SET
  Scenario Outline: A change with one invalid field changes none of the others (<body>)
    Given the ATLAS configuration is restored after this scenario
    When I POST "/v1/atlas/config" with:
      """
      <body>
      """
    Then the response status is 400
    And the error names the field "<field>"
    And the ATLAS configuration is unchanged

    Examples:
      | body                                           | field       |
      | {"window_size": 100, "blend_ratio": 1.5}       | blend_ratio |
      | {"blend_ratio": 0.2, "window_size": 0}         | window_size |
      | {"learning_rate": 0.05, "colour": "blue"}      | colour      |
      | {"momentum": 0.5, "newton_schulz_steps": 99}   | newton_schulz_steps |

  @req.API-CONFIG-GET @req.API-CONFIG-SET
  Scenario Outline: The configuration reports the current <field> once it was changed
    Given the ATLAS configuration is restored after this scenario
    And the default "<field>" has been changed to <value>
    When I GET "/v1/atlas/config"
    Then the JSON at "<field>" is <value>

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
    Given the ATLAS configuration is restored after this scenario
    And the default "window_size" has been changed to 80
    When I ask for the server status
    Then the JSON at "config.window_size" is 80

  @req.API-CONFIG-FLAGS
  Scenario: Requests on a server started with the flags get the flags' defaults
    Given an ATLAS server started with a window size of 64 and a blend ratio of 0.3
    When I send a text completion with the ATLAS extension enabled
    Then the response status is 200
    And the JSON at "atlas.window_size" is 64
    And the JSON at "atlas.blend_ratio" is 0.3

  @req.API-STATUS
  Scenario Outline: <request> counts once in requests_total, as a plain completion does
    When I measure how much the status value "performance.requests_total" grows across a plain completion and across <request>
    Then both grew it by the same amount

    Examples:
      | request                 |
      | a refused completion    |
      | a completion with ATLAS |
      | a streamed completion   |

  @req.API-STATUS
  Scenario: A refused completion does not stay active
    When I send a text completion with the ATLAS extension {"enabled": true, "window_size": 0}
    Then within 10 seconds the server reports no active requests

  @req.API-STATUS
  Scenario: After a load the status names the loaded file as the memory's source
    Given the memory is saved as "status-source.atlas"
    When I load the memory file "status-source.atlas"
    Then the status names "status-source.atlas" as the memory's source

  @req.API-STATUS-SPEED @slow
  Scenario: A newly started server reports a measured generation speed before any completion
    Given a newly started server under test
    When I ask for the server status
    Then the reported generation speed is a positive number of tokens per second

  @req.API-METRICS @slow
  Scenario: A newly started server reports its latency in milliseconds
    Given a newly started server under test
    When I send 4 plain completions one after another, timing each
    Then the median latency in the metrics is one of those completions', in milliseconds

  @req.API-METRICS
  Scenario Outline: <operation> adds <n> to the metric "<metric>"
    Given the memory is saved as "metrics-probe.atlas"
    And I note the metric "<metric>"
    When <operation>
    Then the metric "<metric>" has grown by <n>

    Examples: completions
      | operation                                                                              | metric         | n |
      | I send a plain completion                                                              | requests.atlas | 0 |
      | I send a text completion with the ATLAS extension enabled                              | requests.atlas | 1 |
      | I send a text completion with the ATLAS extension {"enabled": true, "window_size": 0} | errors.total   | 1 |
      | I send a text completion with the ATLAS extension {"enabled": true, "window_size": 0} | requests.by_status.'400' | 1 |
      | I send a plain completion                                                              | errors.total   | 0 |

    Examples: memory files
      | operation                                 | metric       | n |
      | I save the memory as "metrics-saved.atlas" | memory.saves | 1 |
      | I load the memory file "metrics-probe.atlas" | memory.loads | 1 |
      | I load the memory file "metrics-probe.atlas" | memory.saves | 0 |

  @req.API-METRICS
  Scenario Outline: A <kind> completion <how> adds its tokens to the tokens generated
    Given I note the metric "throughput.tokens_generated"
    When I send a <kind> completion <how>
    Then the metric "throughput.tokens_generated" has grown by the completion's tokens

    Examples:
      | kind | how                                 |
      | text | without the ATLAS extension         |
      | text | with the ATLAS extension enabled    |
      | chat | with the ATLAS extension enabled    |

  @req.API-PROMETHEUS
  Scenario Outline: Prometheus and the JSON metrics agree on <metric> after <operation>
    When <operation>
    Then the Prometheus sample "<sample>" equals the JSON metric "<metric>"

    Examples:
      | operation                                                                              | sample                                         | metric                   |
      | I send a text completion with the ATLAS extension enabled                              | atlas_memory_tokens_memorized                  | memory.tokens_memorized  |
      | I send a text completion with the ATLAS extension enabled                              | atlas_memory_updates                           | memory.updates           |
      | I send a plain completion                                                              | atlas_tokens_generated_total                   | throughput.tokens_generated |
      | I send a text completion with the ATLAS extension {"enabled": true, "window_size": 0} | atlas_requests_total{status="400"}             | requests.by_status.'400' |
      | I send a text completion with the ATLAS extension {"enabled": true, "window_size": 0} | atlas_errors_total{type="invalid_request_error"} | errors.by_type.invalid_request_error |
