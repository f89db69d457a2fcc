@atlas @status
Feature: The server describes its health and performance
  Operators read the server's status to learn what it runs with and how it performs. The
  numbers are live measurements, not constants. (The exact shapes of /health and
  /v1/atlas/status are in features/contract/status_routes.feature.)

  Background:
    Given the ATLAS server is running

  @req.API-STATUS-SPEED
  Scenario: The generation speed is measured from the start
    When I ask for the server status
    Then the reported generation speed is a positive number of tokens per second

  @req.API-STATUS-SPEED
  Scenario: The generation speed stays a live measurement after traffic
    Given the server has reported a generation speed
    When I send a plain completion of 16 tokens
    Then the server reports a new, positive generation speed

  @req.API-STATUS
  Scenario: Every completion is counted
    Given the server has counted the requests it answered so far
    When I send a plain completion
    Then the server counts more requests answered than before

  @req.API-STATUS
  Scenario Outline: <request> is counted once among the requests answered, as a plain completion is
    When I measure how much the status value "performance.requests_total" grows across a plain completion and across <request>
    Then both grew it by the same amount

    Examples:
      | request                 |
      | a refused completion    |
      | a completion with ATLAS |
      | a streamed completion   |

  @req.API-STATUS
  Scenario: A refused completion does not stay active
    When I send a text completion with the ATLAS extension {"enabled": true, "window_size": 0}
    Then within 10 seconds the server reports no active requests

  @req.API-STATUS
  Scenario: After a load the status names the loaded file as the memory's source
    Given the memory is saved as "status-source.atlas"
    When I load the memory file "status-source.atlas"
    Then the status names "status-source.atlas" as the memory's source

  @req.API-STATUS-SPEED @slow
  Scenario: A newly started server reports a measured generation speed before any completion
    Given a newly started server under test
    When I ask for the server status
    Then the reported generation speed is a positive number of tokens per second
