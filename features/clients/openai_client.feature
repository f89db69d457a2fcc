@clients
Feature: The official OpenAI Python client works against the server
  Applications use the official "openai" package, not raw HTTP. It must work unchanged, carry
  the ATLAS extension through extra_body, expose the atlas block, and turn server errors into
  its own exception classes.

  Background:
    Given the server under test is running

  @smoke
  Scenario: The client completes a chat
    When the official OpenAI client asks for a chat completion
    Then the client receives an answer with text

  Scenario: The client completes a text prompt
    When the official OpenAI client asks for a text completion
    Then the client receives an answer with text

  Scenario: The async client holds several conversations at once
    When the async OpenAI client sends 3 chat completions at once
    Then all 3 answers have text

  Scenario: The client streams a chat completion
    When the official OpenAI client streams a chat completion
    Then the client receives an answer with text

  @atlas
  Scenario: The ATLAS extension travels through extra_body and comes back
    When the official OpenAI client asks for a chat completion with the ATLAS extension {"enabled": true, "window_size": 32}
    Then the client receives an answer with text
    And the client exposes the atlas block, matching the "atlas_block" schema
    And the client's atlas block reports a window size of 32

  @atlas
  Scenario: A streamed answer exposes the atlas block on its last chunk
    When the official OpenAI client streams a chat completion with the ATLAS extension {"enabled": true}
    Then the client receives an answer with text
    And the client exposes the atlas block, matching the "atlas_block" schema

  @atlas
  Scenario: A server error surfaces as the client's BadRequestError
    When the official OpenAI client asks for a chat completion with the ATLAS extension {"enabled": true, "window_size": 0}
    Then the client raises BadRequestError
    And the client's error carries the server's message naming "atlas.window_size"

  @security
  Scenario: The client passes the API key its own way
    Given a server that requires the API key "suite-key-7f3a9c"
    When the official OpenAI client with the key "suite-key-7f3a9c" asks for a chat completion
    Then the client receives an answer with text
    When the official OpenAI client with the key "suite-wrong-key-1b2c" asks for a chat completion
    Then the client raises AuthenticationError
