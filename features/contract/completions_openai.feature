@completions
Feature: Contract: /v1/models, /v1/completions and /v1/chat/completions without ATLAS
  The exact statuses and JSON shapes of the OpenAI routes for a request without the "atlas"
  object, route by route, for server implementers (schemas/openapi.yaml).

  Background:
    Given the server under test is running

  @smoke
  @req.API-MODELS @req.API-START
  Scenario: GET /v1/models answers the models list
    When I GET "/v1/models"
    Then the response status is 200
    And the response matches the "models_list" schema

  @smoke
  @req.API-COMPLETIONS @req.API-PLAIN-SHAPE
  Scenario: POST /v1/completions without "atlas" answers a plain OpenAI completion
    When I POST "/v1/completions" with:
      """
      {"prompt": "The capital of France is", "max_tokens": 8, "temperature": 0}
      """
    Then the response status is 200
    And the response matches the "completion" schema
    And the JSON at "atlas" does not exist

  @req.API-CHAT @req.API-PLAIN-SHAPE
  Scenario: POST /v1/chat/completions without "atlas" answers a plain OpenAI chat completion
    When I POST "/v1/chat/completions" with:
      """
      {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 8, "temperature": 0}
      """
    Then the response status is 200
    And the response matches the "chat_completion" schema
    And the JSON at "choices[0].message.role" is "assistant"
    And the JSON at "atlas" does not exist
