@completions
Feature: Without ATLAS the server is a plain OpenAI server
  A request without the "atlas" object, or with "enabled": false, gets exactly the answer an
  OpenAI-compatible llama-server would give, and the memory does not move (those scenarios are
  in atlas_extension.feature, on an ATLAS server). The exact shapes of /v1/models,
  /v1/completions and /v1/chat/completions are in features/contract/completions_openai.feature.

  Background:
    Given the server under test is running

  @req.API-COMPLETIONS @req.API-CHAT @req.API-PLAIN-SHAPE
  Scenario Outline: A <kind> completion without ATLAS is answered as plain OpenAI
    When I send a <kind> completion without the ATLAS extension
    Then the answer is a plain OpenAI completion

    Examples:
      | kind |
      | text |
      | chat |

  @req.API-COMPLETIONS @req.API-CHAT @req.API-PLAIN-SHAPE
  Scenario Outline: A streamed <kind> completion is plain OpenAI
    When I stream a <kind> completion without the ATLAS extension
    Then the stream ends with [DONE]
    And every chunk has the shape of a streamed <kind> completion
    And no chunk carries an atlas block

    Examples:
      | kind |
      | text |
      | chat |

  @req.API-NO-ATLAS
  Scenario: A server started without ATLAS has no ATLAS routes and answers plainly
    Given a plain OpenAI server without ATLAS
    When I send a chat completion without the ATLAS extension
    Then the response has no atlas block
    And the server has no ATLAS routes

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
    When I ask for the list of models
    Then the models list names the model file the server loaded
