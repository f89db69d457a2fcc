@atlas @completions
Feature: Completions carry the ATLAS extension
  With "atlas": {"enabled": true} a completion reads and updates the memory, and the answer
  says what the memory did in a top-level "atlas" block (in the last chunk when streamed).

  Background:
    Given the ATLAS server is running
    And I note the memory fingerprint
    And I note the memory counters

  @req.API-EXT-REQUEST @req.API-EXT-RESPONSE
  Scenario: A text completion with a chosen window size and blend ratio reports them and what the memory read
    When I send a text completion with the ATLAS extension {"enabled": true, "window_size": 64, "blend_ratio": 0.7}
    Then the answer is an OpenAI completion with an atlas block
    And the atlas block names the memory "default"
    And the atlas block reports a window size of 64
    And the atlas block reports a blend ratio of 0.7
    And the atlas block counts the request's tokens

  @req.API-EXT-RESPONSE @req.FUNC-FINGERPRINT
  Scenario: A chat completion with ATLAS updates the memory
    When I send a chat completion with the ATLAS extension enabled
    Then the answer is an OpenAI completion with an atlas block
    And the memory fingerprint has changed

  @req.API-EXT-REQUEST
  Scenario: The server's defaults fill in what the request leaves out
    When I send a text completion with the ATLAS extension enabled
    Then the atlas block reports the server's default window size and blend ratio

  @req.API-EXT-TOKENS @req.FUNC-COUNTERS
  Scenario: The memory counts the request's tokens
    When I send a text completion with the ATLAS extension enabled
    Then the atlas block counts the request's tokens
    And the memory counters have grown

  @req.API-EXT-STREAM
  Scenario Outline: A streamed <kind> completion carries the atlas block in its last chunk
    When I stream a <kind> completion with the ATLAS extension enabled
    Then the stream ends with [DONE]
    And every chunk has the shape of a streamed <kind> completion
    And the last chunk before [DONE] carries an atlas block that matches its schema
    And only the last chunk carries an atlas block

    Examples:
      | kind |
      | text |
      | chat |

  @req.API-EXT-STREAM @req.API-EXT-RESPONSE
  Scenario Outline: A streamed <kind> completion on a named memory with a chosen window size reports both in its last chunk
    When I stream a <kind> completion with ATLAS on the memory "streamed-<kind>.atlas" and a window size of 32
    Then the stream ends with [DONE]
    And only the last chunk carries an atlas block
    And the atlas block names the memory "streamed-<kind>.atlas"
    And the atlas block reports a window size of 32

    Examples:
      | kind |
      | text |
      | chat |

  @req.API-EXT-STREAM @req.API-EXT-RESPONSE
  Scenario: A streamed completion with a chosen ATLAS extension reports it in its last chunk
    When I stream a text completion with the ATLAS extension {"enabled": true, "window_size": 48, "blend_ratio": 0.4}
    Then the stream ends with [DONE]
    And the atlas block reports a window size of 48
    And the atlas block reports a blend ratio of 0.4

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
    Then the atlas block reports a blend ratio of <ratio>

    Examples:
      | ratio |
      | 0     |
      | 1     |

  @memory
  @req.API-PLAIN-MEMORY @req.FUNC-FINGERPRINT
  Scenario Outline: A <kind> completion <how> leaves the memory untouched
    When I send a <kind> completion <how>
    Then the response has no atlas block
    And the memory fingerprint is unchanged

    Examples:
      | kind | how                                |
      | text | without the ATLAS extension        |
      | text | with the ATLAS extension disabled  |
      | chat | without the ATLAS extension        |
      | chat | with the ATLAS extension disabled  |

  @req.API-EXT-REQUEST @req.API-PLAIN-MEMORY
  Scenario Outline: An atlas object that does not switch ATLAS on leaves the memory untouched (<extension>)
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
    Then the atlas block names the memory "answer-names-me.atlas"

  @req.API-EXT-TOKENS
  Scenario: The tokens memorized are this request's prompt and completion, not the memory's total
    Given the memory has read "Earlier text the memory already holds, so its total is larger."
    When I send a text completion of a long prompt with the ATLAS extension enabled
    Then the atlas block counts both the prompt's tokens and the completion's
