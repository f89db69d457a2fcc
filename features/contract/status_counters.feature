@atlas @status
Feature: Contract: the counters of /v1/atlas/metrics only go up
  A monitoring system reads the counters of /v1/atlas/metrics as totals since the start: a
  request raises them, nothing lowers them. Written in the generic steps, as a QA team's own
  check would be: remember a number, make a request, compare.

  Background:
    Given the ATLAS server is running

  @req.API-METRICS
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
