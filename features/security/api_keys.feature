@security
Feature: API keys guard every /v1 route
  With keys configured, every /v1 route needs the key, as "Authorization: Bearer KEY" or as
  "X-Api-Key: KEY". A request without the right key is refused as unauthorised; the health
  check stays public; a key never appears in an answer or in the server's log.
  (The exact statuses and error shapes, route by route: features/contract/security_api_keys.feature.)

  Background:
    Given a server that requires the API key "suite-key-7f3a9c"

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

  @smoke
  @req.SEC-HEALTH-PUBLIC @req.API-READY
  Scenario: The health check answers a client without a key
    Given requests carry no key
    When the route GET "/health" is called
    Then the health check reports the server ready

  @req.SEC-HEALTH-PUBLIC
  Scenario Outline: The health check answers whatever key is sent: <key> in <header>
    Given requests carry the key "<key>" in the "<header>" header
    When the route GET "/health" is called
    Then the health check reports the server ready

    Examples:
      | key                  | header        |
      | suite-key-7f3a9c     | Authorization |
      | suite-wrong-key-1b2c | Authorization |
      | suite-wrong-key-1b2c | X-Api-Key     |

  @req.SEC-AUTH-FILE
  Scenario Outline: Keys read from a key file guard the routes like keys given one by one: <key> is <verdict>
    Given a server that reads its API keys from a file holding "file-key-one" and "file-key-two"
    And requests carry the key "<key>"
    When the route GET "/v1/models" is called
    Then the request is <verdict>

    Examples:
      | key           | verdict                 |
      | file-key-one  | accepted                |
      | file-key-two  | accepted                |
      | file-key-nine | refused as unauthorised |

  @req.SEC-KEY-SECRET
  Scenario: The key and a refused wrong key never appear in an answer or in the server log
    Given requests carry the key "suite-key-7f3a9c"
    When I send a chat completion without the ATLAS extension
    And the route GET "/v1/no-such-route" is called
    And I send a request with the wrong key "suite-wrong-key-1b2c"
    Then the request is refused as unauthorised
    And the key "suite-key-7f3a9c" appears in no answer and not in the server log
    And the key "suite-wrong-key-1b2c" appears in no answer and not in the server log

  @req.SEC-KEY-SECRET
  Scenario: No route's answer contains the key it was sent with
    Given requests carry the key "suite-key-7f3a9c"
    When I call every route of the API
    Then no answer contains the key "suite-key-7f3a9c"

  @req.SEC-KEY-SECRET
  Scenario: No route's answer or log line contains a wrong key it was sent
    Given requests carry the key "suite-wrong-key-9d8e" in the "X-Api-Key" header
    When I call every route of the API
    Then the key "suite-wrong-key-9d8e" appears in no answer and not in the server log

  @req.SEC-KEY-SECRET @req.SEC-AUTH-FILE
  Scenario: Keys read from a key file appear in no answer and not in the log
    Given a server that reads its API keys from a file holding "file-key-one" and "file-key-two"
    And requests carry the key "file-key-one"
    When I call every route of the API
    Then the key "file-key-one" appears in no answer and not in the server log
    And the key "file-key-two" appears in no answer and not in the server log
