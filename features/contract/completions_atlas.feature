@atlas @completions
Feature: Contract: the "atlas" object of /v1/completions and its answer
  The exact request and answer of a completion with the ATLAS extension, and the error envelope
  of a refused one, for server implementers (schemas/openapi.yaml, docs/api.md).

  Background:
    Given the ATLAS server is running

  @smoke
  @req.API-EXT-REQUEST @req.API-EXT-RESPONSE
  Scenario: POST /v1/completions with "atlas" answers a completion with a top-level atlas block
    When I POST "/v1/completions" with:
      """
      {"prompt": "The lighthouse keeper counted the ships", "max_tokens": 8, "temperature": 0,
       "atlas": {"enabled": true, "window_size": 64, "blend_ratio": 0.7}}
      """
    Then the response status is 200
    And the response matches the "completion" schema
    And the JSON at "atlas" matches the "atlas_block" schema
    And the JSON at "atlas.enabled" is true
    And the JSON at "atlas.memory" is "default"
    And the JSON at "atlas.window_size" is 64
    And the JSON at "atlas.blend_ratio" is 0.7
    And the JSON at "atlas.tokens_memorized" is greater than 0

  @req.API-EXT-INVALID
  Scenario: POST /v1/completions with an invalid "atlas" answers 400 naming the field's dotted path
    When I POST "/v1/completions" with:
      """
      {"prompt": "The lighthouse keeper counted the ships", "max_tokens": 8, "temperature": 0,
       "atlas": {"enabled": true, "window_size": 0}}
      """
    Then the response status is 400
    And the response matches the "error" schema
    And the JSON at "error.type" is "invalid_request_error"
    And the JSON at "error.param" is "atlas.window_size"
