@docker @atlas @deployment @req.INT-DOCKER-CPU
Feature: The ATLAS server runs from its CPU container image
  Operators deploy the server as the founding document does:
  docker run -p 8080:8080 -v "$PWD/memory:/atlas-memory" atlas-server-cpu:latest
  The container is ready when /health answers 200 (the suite polls it, it never sleeps a fixed
  time); from then on it serves the ATLAS status and completions with the memory on.

  Background:
    Given the ATLAS server container is running

  @smoke
  Scenario: The container becomes healthy and reports its ATLAS status
    Then the container became healthy within 120 seconds
    When I GET "/health"
    Then the response status is 200
    When I GET "/v1/atlas/status"
    Then the response status is 200
    And the response matches the "atlas_status" schema
    And the JSON at "atlas.enabled" is true
    And the JSON at "memory.fingerprint" matches "^[0-9a-f]{64}$"

  Scenario Outline: A <kind> completion with ATLAS enabled is answered by the container
    When I send a <kind> completion with the ATLAS extension enabled
    Then the response status is 200
    And the response matches the "<schema>" schema
    And the response carries an atlas block that matches its schema

    Examples:
      | kind | schema          |
      | text | completion      |
      | chat | chat_completion |

  Scenario: The image's own health check passes and the server does not run as root
    Then the image's health check passes inside the container
    And the server in the container does not run as root
