@atlas @status
Feature: Contract: /health, /v1/atlas/status, /v1/atlas/config, /v1/atlas/metrics and /metrics
  The exact statuses and JSON shapes of the routes that describe the server, route by route,
  for server implementers (the schemas are in schemas/openapi.yaml and docs/api.md).

  Background:
    Given the ATLAS server is running

  @smoke
  @req.API-READY
  Scenario: GET /health answers 200 {"status": "ok"} once the model is loaded
    When I GET "/health"
    Then the response status is 200
    And the JSON at "status" is "ok"

  @smoke
  @req.API-STATUS @req.API-START
  Scenario: GET /v1/atlas/status describes the model, the memory, the configuration and the limits
    When I GET "/v1/atlas/status"
    Then the response status is 200
    And the response matches the "atlas_status" schema
    And the JSON at "atlas.enabled" is true
    And the JSON at "limits.parallel" is 4
    And the JSON at "memory.fingerprint" matches "^[0-9a-f]{64}$"

  @req.API-CONFIG-GET @req.FUNC-BLEND
  Scenario: GET /v1/atlas/config lists the memory's defaults and says whether blending is supported
    When I GET "/v1/atlas/config"
    Then the response status is 200
    And the response matches the "atlas_config" schema
    And the JSON at "blend_supported" is a boolean

  @req.API-CONFIG-SET
  Scenario: POST /v1/atlas/config answers the whole new configuration
    Given the ATLAS configuration is restored after this scenario
    When I POST "/v1/atlas/config" with:
      """
      {"window_size": 128, "blend_ratio": 0.25}
      """
    Then the response status is 200
    And the response matches the "atlas_config" schema
    And the JSON at "window_size" is 128
    And the JSON at "blend_ratio" is 0.25

  @req.API-METRICS
  Scenario: GET /v1/atlas/metrics counts requests, latency, throughput, memory work and errors
    Given the memory has read "Metrics count the work the memory does."
    When I GET "/v1/atlas/metrics"
    Then the response status is 200
    And the response matches the "atlas_metrics" schema
    And the JSON at "requests.total" is greater than 0
    And the JSON at "requests.atlas" is greater than 0
    And the JSON at "memory.updates" is greater than 0
    And the JSON at "throughput.tokens_per_second" is greater than 0

  @req.API-PROMETHEUS
  Scenario: GET /metrics exposes the same counters as Prometheus text
    When I GET "/metrics"
    Then the response status is 200
    And the response is Prometheus text with metrics named "atlas_*"
