@atlas @completions
Feature: Completions carry the ATLAS extension
  With "atlas": {"enabled": true} a completion reads and updates the memory, and the answer
  says what the memory did in a top-level "atlas" block (in the last chunk when streamed).

  Background:
    Given the ATLAS server is running

  @smoke
  @req.API-EXT-REQUEST @req.API-EXT-RESPONSE
  Scenario: A text completion with ATLAS reports what the memory did
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

  @req.API-EXT-RESPONSE @req.FUNC-FINGERPRINT
  Scenario: A chat completion with ATLAS updates the memory
    Given I note the memory fingerprint
    When I send a chat completion with the ATLAS extension enabled
    Then the response status is 200
    And the response matches the "chat_completion" schema
    And the response carries an atlas block that matches its schema
    And the memory fingerprint has changed

  @req.API-EXT-REQUEST
  Scenario: The server's defaults fill in what the request leaves out
    When I send a text completion with the ATLAS extension enabled
    Then the atlas block reports the server's default window size and blend ratio

  @req.API-EXT-TOKENS @req.FUNC-COUNTERS
  Scenario: The memory counts the request's tokens
    Given I note the memory counters
    When I send a text completion with the ATLAS extension enabled
    Then the atlas block counts the request's tokens
    And the memory counters have grown

  @req.API-EXT-STREAM
  Scenario Outline: A streamed <kind> completion carries the atlas block in its last chunk
    When I stream a <kind> completion with the ATLAS extension enabled
    Then the stream ends with [DONE]
    And every chunk matches the "<chunk schema>" schema
    And the last chunk before [DONE] carries an atlas block that matches its schema
    And only the last chunk carries an atlas block

    Examples:
      | kind | chunk schema          |
      | text | completion_chunk      |
      | chat | chat_completion_chunk |

  # -- the extension's rules at their edges ----------------------------------------------------

  @req.API-EXT-REQUEST
  Scenario Outline: An ATLAS window size of <window>, at the edge of its range, is accepted
    When I send a text completion with an ATLAS window size of <window>
    Then the atlas block reports the window size that was sent

    Examples:
      | window           |
      | 1                |
      | the context size |

  @req.API-EXT-REQUEST @req.API-EXT-RESPONSE
  Scenario Outline: An ATLAS blend ratio of <ratio>, at the edge of its range, is accepted and echoed
    When I send a text completion with the ATLAS extension {"enabled": true, "blend_ratio": <ratio>}
    Then the response status is 200
    And the JSON at "atlas.blend_ratio" is <ratio>

    Examples:
      | ratio |
      | 0     |
      | 1     |

  @req.API-EXT-REQUEST @req.API-PLAIN-MEMORY
  Scenario Outline: An atlas object that does not switch ATLAS on leaves the memory untouched (<extension>)
    Given I note the memory fingerprint
    When I send a text completion with the ATLAS extension <extension>
    Then the response has no atlas block
    And the memory fingerprint is unchanged

    Examples:
      | extension                                                  |
      | {"window_size": 64}                                        |
      | {"blend_ratio": 0.9}                                       |
      | {"enabled": false, "window_size": 64, "blend_ratio": 0.2}  |

  @req.API-PLAIN-MEMORY
  Scenario Outline: A streamed <kind> completion without ATLAS leaves the memory untouched
    Given I note the memory fingerprint
    When I stream a <kind> completion without the ATLAS extension
    Then the stream ends with [DONE]
    And no chunk carries an atlas block
    And the memory fingerprint is unchanged

    Examples:
      | kind |
      | text |
      | chat |

  @req.API-EXT-RESPONSE
  Scenario: The atlas block names the memory the request used
    When I send a text completion with the ATLAS extension {"enabled": true, "memory_file": "answer-names-me.atlas"}
    Then the response status is 200
    And the JSON at "atlas.memory" is "answer-names-me.atlas"

  @req.API-EXT-TOKENS
  Scenario: tokens_memorized counts this request's prompt and completion, not the memory's total
    Given the memory has read "Earlier text the memory already holds, so its total is larger."
    When I send a text completion of a long prompt with the ATLAS extension enabled
    Then the atlas block counts both the prompt's tokens and the completion's
