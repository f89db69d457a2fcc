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
