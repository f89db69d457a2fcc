@atlas @status
Feature: Contract: the memory's counters and fingerprint in /v1/atlas/status and /v1/atlas/metrics move only with ATLAS work
  A monitoring system reads the counters of /v1/atlas/metrics as totals since the start, and a
  backup tool reads the memory's fingerprint in /v1/atlas/status to know whether the memory
  changed. Written in the generic steps, as a QA team's own checks would be: remember a number
  or a fingerprint, make a request, compare.

  Background:
    Given the ATLAS server is running

  @req.API-METRICS @req.FUNC-COUNTERS
  Scenario: A completion with ATLAS raises requests.total and requests.atlas, and memory.updates does not go back
    When I GET "/v1/atlas/metrics"
    And I remember the JSON at "requests.total" as "requests before"
    And I remember the JSON at "requests.atlas" as "atlas requests before"
    And I remember the JSON at "memory.updates" as "updates before"
    And I POST "/v1/completions" with:
      """
      {"prompt": "Counters count up", "max_tokens": 4, "temperature": 0,
       "atlas": {"enabled": true}}
      """
    And I GET "/v1/atlas/metrics"
    Then the response status is 200
    And the JSON at "requests.total" is greater than the remembered "requests before"
    And the JSON at "requests.atlas" is greater than the remembered "atlas requests before"
    And the JSON at "memory.updates" is at least the remembered "updates before"

  @req.FUNC-FINGERPRINT @req.FUNC-COUNTERS
  Scenario: A completion with ATLAS changes memory.fingerprint and raises memory.tokens_memorized
    When I GET "/v1/atlas/status"
    And I remember the JSON at "memory.fingerprint" as "fingerprint before"
    And I remember the JSON at "memory.tokens_memorized" as "tokens before"
    And I POST "/v1/completions" with:
      """
      {"prompt": "The memory reads this and changes", "max_tokens": 4, "temperature": 0,
       "atlas": {"enabled": true}}
      """
    And I GET "/v1/atlas/status"
    Then the JSON at "memory.fingerprint" differs from the remembered "fingerprint before"
    And the JSON at "memory.tokens_memorized" is greater than the remembered "tokens before"

  @req.FUNC-FINGERPRINT
  Scenario: A completion with ATLAS disabled leaves memory.fingerprint as it was
    When I GET "/v1/atlas/status"
    And I remember the JSON at "memory.fingerprint" as "fingerprint before"
    And I POST "/v1/completions" with:
      """
      {"prompt": "This text is not for the memory", "max_tokens": 4, "temperature": 0,
       "atlas": {"enabled": false}}
      """
    And I GET "/v1/atlas/status"
    Then the JSON at "memory.fingerprint" equals the remembered "fingerprint before"
