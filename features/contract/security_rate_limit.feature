@security @slow
Feature: Contract - rate limits: the exact 429 answer and its headers
  For server implementers: with "--rate-limit N", the request beyond N in a minute answers 429
  in the error envelope (error.type "rate_limit_error") with "Retry-After" (whole seconds),
  "X-RateLimit-Limit: N", "X-RateLimit-Remaining: 0" and "X-RateLimit-Reset".

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
    And the response header "X-RateLimit-Reset" is a whole number from 1 to 60
