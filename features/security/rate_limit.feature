@security @slow
Feature: Rate limiting per client
  With a rate limit of N, the server answers at most N requests per minute per API key (or per
  client address when there are no keys); beyond that it refuses the request as over the rate
  limit and says when to come back.
  (The exact 429 answer and its headers: features/contract/security_rate_limit.feature.)

  @req.SEC-RATE-LIMIT
  Scenario: Beyond its limit a client is refused, told how many requests were left and when to come back
    Given a fresh server limited to 3 requests per minute
    When a client sends 4 requests within a minute
    Then the first 3 requests are answered
    And the answers count the requests left down from 2 to 0
    And the request is refused as over the rate limit

  @req.SEC-RATE-LIMIT @req.SEC-AUTH
  Scenario: Each API key has its own allowance
    Given a fresh server limited to 3 requests per minute that requires the API keys "rate-key-a1" and "rate-key-b2"
    When the key "rate-key-a1" is used for 4 requests to "/v1/models"
    And the key "rate-key-b2" is used for 1 request to "/v1/models"
    Then the key "rate-key-a1" was answered 3 times and then refused as over the rate limit
    And every request with the key "rate-key-b2" was answered

  @req.SEC-RATE-LIMIT @req.SEC-AUTH
  Scenario: On a server with an API key and a rate limit, the key holder is limited like any client
    Given a fresh server limited to 2 requests per minute that requires the API key "rate-key-c3"
    When the key "rate-key-c3" is used for 3 requests to "/v1/models"
    Then the key "rate-key-c3" was answered 2 times and then refused as over the rate limit
