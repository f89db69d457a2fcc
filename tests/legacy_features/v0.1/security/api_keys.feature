@security
Feature: API keys guard every /v1 route
  With keys configured, every /v1 route needs "Authorization: Bearer KEY" or "X-Api-Key: KEY".
  A missing or wrong key is a 401; /health stays public; the key never appears in an answer
  or in the server's log.

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

  @smoke
  @req.SEC-HEALTH-PUBLIC @req.API-READY
  Scenario: The health check is public
    Given I use no API key
    When I GET "/health"
    Then the response status is 200

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

  @req.SEC-KEY-SECRET
  Scenario: The key never appears in an answer or in the server log
    Given I use the API key "suite-key-7f3a9c"
    When I GET "/v1/models"
    And I send a chat completion without the ATLAS extension
    And I send a GET request to "/v1/no-such-route"
    And I send a request with the wrong key "suite-wrong-key-1b2c"
    Then the response status is 401
    And no response in this scenario contains "suite-key-7f3a9c"
    And no response in this scenario contains "suite-wrong-key-1b2c"
    And the server log does not contain "suite-key-7f3a9c"
    And the server log does not contain "suite-wrong-key-1b2c"

  @req.SEC-AUTH-FILE
  Scenario Outline: Keys read from --api-key-file guard the routes like --api-key
    Given a server that reads its API keys from a file holding "file-key-one" and "file-key-two"
    And I use the API key "<key>"
    When I send a GET request to "/v1/models"
    Then the response status is <status>

    Examples:
      | key           | status |
      | file-key-one  | 200    |
      | file-key-two  | 200    |
      | file-key-nine | 401    |

  @req.SEC-AUTH @req.ERR-ENVELOPE
  Scenario Outline: <method> <route> refuses every missing or wrong key and accepts the right one in either header
    When I call <method> "<route>" with every kind of credential for the key "suite-key-7f3a9c"
    Then every missing or wrong key is refused with 401 in the error envelope
    And the right key is accepted in both the Authorization and the X-Api-Key header

    Examples: OpenAI routes
      | method | route                |
      | GET    | /v1/models           |
      | POST   | /v1/completions      |
      | POST   | /v1/chat/completions |

    @atlas
    Examples: ATLAS routes
      | method | route                   |
      | GET    | /v1/atlas/status        |
      | GET    | /v1/atlas/config        |
      | POST   | /v1/atlas/config        |
      | GET    | /v1/atlas/metrics       |
      | POST   | /v1/atlas/memory/save   |
      | POST   | /v1/atlas/memory/load   |
      | GET    | /v1/atlas/memory/list   |
      | POST   | /v1/atlas/memory/delete |
      | POST   | /v1/atlas/memory/reset  |

  @req.SEC-HEALTH-PUBLIC
  Scenario Outline: The health check answers whatever key is sent: <key> in <header>
    Given I send the API key "<key>" in the "<header>" header
    When I GET "/health"
    Then the response status is 200
    And the JSON at "status" is "ok"

    Examples:
      | key                  | header        |
      | suite-key-7f3a9c     | Authorization |
      | suite-wrong-key-1b2c | Authorization |
      | suite-wrong-key-1b2c | X-Api-Key     |

  @req.SEC-KEY-SECRET
  Scenario: No route's answer contains the key it was sent with
    Given I use the API key "suite-key-7f3a9c"
    When I call every route of the API
    Then no response in this scenario contains "suite-key-7f3a9c"

  @req.SEC-KEY-SECRET
  Scenario: No route's answer or log line contains a wrong key it was sent
    Given I send the API key "suite-wrong-key-9d8e" in the "X-Api-Key" header
    When I call every route of the API
    Then no response in this scenario contains "suite-wrong-key-9d8e"
    And the server log does not contain "suite-wrong-key-9d8e"

  @req.SEC-KEY-SECRET @req.SEC-AUTH-FILE
  Scenario: Keys read from --api-key-file appear in no answer and not in the log
    Given a server that reads its API keys from a file holding "file-key-one" and "file-key-two"
    And I use the API key "file-key-one"
    When I call every route of the API
    Then no response in this scenario contains "file-key-one"
    And no response in this scenario contains "file-key-two"
    And the server log does not contain "file-key-one"
    And the server log does not contain "file-key-two"
