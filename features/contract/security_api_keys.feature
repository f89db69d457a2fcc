@security
Feature: Contract - API keys: the exact answers to missing, wrong and right keys
  For server implementers: with "--api-key KEY", each /v1 route answers a request without the
  right key with 401 in the error envelope (error.type "authentication_error"); the key is
  accepted as "Authorization: Bearer KEY" and as "X-Api-Key: KEY"; GET /health answers 200
  {"status": "ok"} whatever is sent.

  Background:
    Given a server that requires the API key "suite-key-7f3a9c"

  @req.SEC-AUTH @req.ERR-ENVELOPE
  Scenario Outline: <method> <route> without a key is refused with 401
    Given I use no API key
    When I send a <method> request to "<route>"
    Then the response status is 401
    And the response matches the "error" schema
    And the JSON at "error.type" is "authentication_error"

    Examples: OpenAI routes
      | method | route                |
      | GET    | /v1/models           |
      | POST   | /v1/completions      |
      | POST   | /v1/chat/completions |

    @atlas
    Examples: ATLAS routes
      | method | route                 |
      | GET    | /v1/atlas/status      |
      | GET    | /v1/atlas/config      |
      | GET    | /v1/atlas/memory/list |
      | POST   | /v1/atlas/memory/save |

  @req.SEC-AUTH
  Scenario Outline: <method> <route> with a wrong key is refused with 401
    Given I use the API key "suite-wrong-key-1b2c"
    When I send a <method> request to "<route>"
    Then the response status is 401
    And the response matches the "error" schema

    Examples: OpenAI routes
      | method | route                |
      | GET    | /v1/models           |
      | POST   | /v1/chat/completions |

    @atlas
    Examples: ATLAS routes
      | method | route                  |
      | GET    | /v1/atlas/metrics      |
      | POST   | /v1/atlas/memory/reset |

  @req.SEC-AUTH
  Scenario Outline: The key is accepted in the <header> header
    Given I send the API key "suite-key-7f3a9c" in the "<header>" header
    When I GET "/v1/models"
    Then the response status is 200
    And the response matches the "models_list" schema

    Examples:
      | header        |
      | Authorization |
      | X-Api-Key     |

  @req.SEC-HEALTH-PUBLIC
  Scenario: GET /health answers 200 {"status": "ok"} without a key
    Given I use no API key
    When I GET "/health"
    Then the response status is 200
    And the JSON at "status" is "ok"
