@security @slow
Feature: Rate limiting per client
  With --rate-limit N the server answers at most N requests per minute per API key (or per
  client address); beyond that it answers 429 and says when to come back.

  @req.SEC-RATE-LIMIT
  Scenario: The fourth request in a minute is refused with 429
    Given a fresh server limited to 3 requests per minute
    When I GET "/v1/models" 4 times
    Then responses 1 to 3 have status 200
    And the response status is 429
    And the response matches the "error" schema
    And the JSON at "error.type" is "rate_limit_error"
    And the response header "Retry-After" is a whole number
    And the response header "X-RateLimit-Limit" is "3"
    And the response header "X-RateLimit-Remaining" is "0"
    And the response header "X-RateLimit-Reset" exists

  @req.SEC-RATE-LIMIT
  Scenario: The limit's headers count the requests left and say when to come back
    Given a fresh server limited to 3 requests per minute
    When I GET "/v1/models" 4 times
    Then responses 1 to 3 have status 200
    And the accepted answers that carry "X-RateLimit-Remaining" count down from 2 to 0
    And the response status is 429
    And the response header "Retry-After" is a whole number from 1 to 60
    And the response header "X-RateLimit-Reset" is a whole number from 1 to 60

  @req.SEC-RATE-LIMIT @req.SEC-AUTH
  Scenario: Each API key has its own allowance
    Given a fresh server limited to 3 requests per minute that requires the API keys "rate-key-a1" and "rate-key-b2"
    When the key "rate-key-a1" is used for 4 requests to "/v1/models"
    And the key "rate-key-b2" is used for 1 request to "/v1/models"
    Then responses 1 to 3 have status 200
    And response 4 has status 429
    And the response status is 200
