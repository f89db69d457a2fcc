@completions
Feature: Without ATLAS the server is a plain OpenAI server
  A request without the "atlas" object, or with "enabled": false, gets exactly the answer an
  OpenAI-compatible llama-server would give, and the memory does not move.

  Background:
    Given the server under test is running

  @smoke
  @req.API-MODELS @req.API-START
  Scenario: The models list names the loaded model
    When I GET "/v1/models"
    Then the response status is 200
    And the response matches the "models_list" schema

  @smoke
  @req.API-COMPLETIONS @req.API-PLAIN-SHAPE
  Scenario: A text completion is plain OpenAI
    When I POST "/v1/completions" with:
      """
      {"prompt": "The capital of France is", "max_tokens": 8, "temperature": 0}
      """
    Then the response status is 200
    And the response matches the "completion" schema
    And the JSON at "atlas" does not exist

  @req.API-CHAT @req.API-PLAIN-SHAPE
  Scenario: A chat completion is plain OpenAI
    When I POST "/v1/chat/completions" with:
      """
      {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 8, "temperature": 0}
      """
    Then the response status is 200
    And the response matches the "chat_completion" schema
    And the JSON at "choices[0].message.role" is "assistant"
    And the JSON at "atlas" does not exist

  @req.API-COMPLETIONS @req.API-CHAT @req.API-PLAIN-SHAPE
  Scenario Outline: A streamed <kind> completion is plain OpenAI
    When I stream a <kind> completion without the ATLAS extension
    Then the stream ends with [DONE]
    And every chunk matches the "<chunk schema>" schema
    And no chunk carries an atlas block

    Examples:
      | kind | chunk schema          |
      | text | completion_chunk      |
      | chat | chat_completion_chunk |

  @atlas @memory
  @req.API-PLAIN-MEMORY @req.FUNC-FINGERPRINT
  Scenario Outline: A <kind> completion <how> leaves the memory untouched
    Given I note the memory fingerprint
    When I send a <kind> completion <how>
    Then the response has no atlas block
    And the memory fingerprint is unchanged

    Examples:
      | kind | how                                |
      | text | without the ATLAS extension        |
      | text | with the ATLAS extension disabled  |
      | chat | without the ATLAS extension        |
      | chat | with the ATLAS extension disabled  |

  @req.API-NO-ATLAS
  Scenario: A server started without ATLAS has no ATLAS routes
    Given a plain OpenAI server without ATLAS
    When I GET "/v1/atlas/status"
    Then the response status is 404
    And the response matches the "error" schema
    When I send a chat completion without the ATLAS extension
    Then the response has no atlas block

  @req.API-NO-ATLAS
  Scenario Outline: A server started without ATLAS answers a <kind> request's atlas object plainly
    Given a plain OpenAI server without ATLAS
    When I send a <kind> completion with the ATLAS extension enabled
    Then the response has no atlas block

    Examples:
      | kind |
      | text |
      | chat |

  @req.API-MODELS
  Scenario: The models list names the model file the server was started with
    When I GET "/v1/models"
    Then the response status is 200
    And the models list names the model file the server loaded
