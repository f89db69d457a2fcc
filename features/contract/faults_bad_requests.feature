@faults @contract
Feature: Bad requests get clear errors in the OpenAI envelope
  Malformed JSON, oversized bodies and unknown routes are refused with the right status and
  the OpenAI error envelope, and the server carries on.

  Background:
    Given the server under test is running

  @req.ERR-MALFORMED-JSON @req.ERR-ENVELOPE
  Scenario Outline: Malformed JSON sent to <route> is a 400
    When I POST "<route>" with:
      """
      {"prompt": "an unterminated string, "max_tokens": 
      """
    Then the response status is 400
    And the response matches the "error" schema
    And the JSON at "error.type" is "invalid_request_error"

    Examples: OpenAI routes
      | route                |
      | /v1/completions      |
      | /v1/chat/completions |

    @atlas
    Examples: ATLAS routes
      | route                   |
      | /v1/atlas/config        |
      | /v1/atlas/memory/save   |
      | /v1/atlas/memory/load   |
      | /v1/atlas/memory/delete |
      | /v1/atlas/memory/reset  |

  @req.ERR-MALFORMED-JSON
  Scenario Outline: A JSON object followed by garbage sent to <route> is a 400
    When I POST "<route>" with:
      """
      <body> }garbage
      """
    Then the response status is 400
    And the response matches the "error" schema

    Examples: OpenAI routes
      | route           | body                              |
      | /v1/completions | {"prompt": "Hi", "max_tokens": 1} |

    @atlas
    Examples: ATLAS routes
      | route                  | body                  |
      | /v1/atlas/config       | {"window_size": 256}  |
      | /v1/atlas/memory/reset | {"memory": "default"} |

  @req.ERR-ENVELOPE @req.QUAL-NO-CRASH
  Scenario Outline: A request the engine cannot serve, <what>, is a 400 and the server carries on
    When I POST "<route>" with:
      """
      <body>
      """
    Then the response status is 400
    And the response matches the "error" schema
    And the server is healthy

    Examples: found by the fuzzer
      | what                               | route                | body                                                                                                                  |
      | several choices of an empty prompt | /v1/completions      | {"prompt": "", "n": 2, "max_tokens": 2}                                                                               |
      | a tool of no known type            | /v1/chat/completions | {"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "", "function": {"name": "f"}}], "max_tokens": 2} |

  @smoke
  @req.ERR-BODY-LIMIT @req.ERR-ENVELOPE
  Scenario: A body over 8 MiB is refused with 413
    When I POST "/v1/completions" with a body of 9 MiB
    Then the response status is 413
    And the response matches the "error" schema
    And the server is healthy

  @req.ERR-BODY-LIMIT
  Scenario: A body of exactly 8 MiB is not refused for its size
    When I POST "/v1/completions" the JSON {"prompt": "Hi", "max_tokens": 1} padded to exactly 8 MiB
    Then the response status is 200

  @req.ERR-BODY-LIMIT @req.ERR-ENVELOPE
  Scenario: A body one byte over 8 MiB is refused with 413
    When I POST "/v1/completions" the JSON {"prompt": "Hi", "max_tokens": 1} padded to 8 MiB and 1 more byte
    Then the response status is 413
    And the response matches the "error" schema

  @req.ERR-BODY-LIMIT
  Scenario: A chunked upload over 8 MiB, with no Content-Length, is refused with 413
    When I upload 9 MiB of JSON to "/v1/completions" in chunks, with no Content-Length
    Then the response status is 413
    And the response matches the "error" schema
    And the server is healthy

  @req.ERR-UNKNOWN-ROUTE @req.ERR-ENVELOPE
  Scenario Outline: The unknown route <method> <route> is a 404
    When I send a <method> request to "<route>"
    Then the response status is 404
    And the response matches the "error" schema

    And the JSON at "error.code" is 404

    Examples:
      | method | route                      |
      | GET    | /v1/no-such-route          |
      | POST   | /v2/completions            |
      | GET    | /v1/atlas/no-such          |
      | POST   | /v1/atlas/no-such          |
      | GET    | /v1/atlas/memory/no-such   |
      | POST   | /v1/atlas/memory/no-such   |
      | POST   | /v1/atlas/memory/save/more |

  @req.ERR-ENVELOPE
  Scenario Outline: <method> on <route>, which does not take it, is refused in the error envelope
    When I send a <method> request to "<route>"
    Then the response status is 404 or 405
    And the response matches the "error" schema

    Examples: OpenAI routes
      | method | route                |
      | GET    | /v1/completions      |
      | GET    | /v1/chat/completions |
      | DELETE | /v1/models           |

    @atlas
    Examples: ATLAS routes
      | method | route                 |
      | GET    | /v1/atlas/memory/save |
      | DELETE | /v1/atlas/config      |
