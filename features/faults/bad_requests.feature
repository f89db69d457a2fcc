@faults
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
      | route                 |
      | /v1/atlas/config      |
      | /v1/atlas/memory/save |
      | /v1/atlas/memory/load |

  @smoke
  @req.ERR-BODY-LIMIT @req.ERR-ENVELOPE
  Scenario: A body over 8 MiB is refused with 413
    When I POST "/v1/completions" with a body of 9 MiB
    Then the response status is 413
    And the response matches the "error" schema
    And the server is healthy

  @req.ERR-UNKNOWN-ROUTE @req.ERR-ENVELOPE
  Scenario Outline: The unknown route <method> <route> is a 404
    When I send a <method> request to "<route>"
    Then the response status is 404
    And the response matches the "error" schema

    Examples:
      | method | route                |
      | GET    | /v1/no-such-route    |
      | POST   | /v2/completions      |
      | GET    | /v1/atlas/no-such    |
