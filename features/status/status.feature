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
  Scenario: Changing a default answers the new configuration and applies to requests
    Given the ATLAS configuration is restored after this scenario
    When I POST "/v1/atlas/config" with:
      """
      {"window_size": 128, "blend_ratio": 0.25}
      """
    Then the response status is 200
    And the response matches the "atlas_config" schema
    And the JSON at "window_size" is 128
    And the JSON at "blend_ratio" is 0.25
    When I GET "/v1/atlas/config"
    Then the JSON at "window_size" is 128
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
      | blend_ratio         | -0.1  |
      | blend_ratio         | "x"   |
      | learning_rate       | 0     |
      | learning_rate       | 2     |
      | momentum            | 1     |
      | weight_decay        | -0.5  |
      | newton_schulz_steps | 21    |

    Examples: fields that cannot be changed
      | field          | value  |
      | feature_degree | 3      |
      | colour         | "blue" |
