@docker @atlas @deployment @req.INT-DOCKER-CPU
Feature: The ATLAS server runs from its CPU container image
  Operators deploy the server with:
  docker run -p 8080:8080 -v "$PWD/memory:/atlas-memory" atlas-server-cpu:latest
  The container is ready when its health check answers (the suite polls it, it never waits a
  fixed time); from then on it serves the ATLAS status and completions with the memory on.

  Background:
    Given the ATLAS server container is running

  @smoke
  Scenario: The container becomes healthy within 120 seconds and reports ATLAS enabled
    When I ask for the server status
    Then the container became healthy within 120 seconds
    And the server is healthy
    And the status shows ATLAS enabled with a memory fingerprint

  Scenario Outline: A <kind> completion with ATLAS enabled is answered by the container with an atlas block
    When I send a <kind> completion with the ATLAS extension enabled
    Then the answer is an OpenAI completion with an atlas block

    Examples:
      | kind |
      | text |
      | chat |

  Scenario: The image's own health check passes and the server does not run as root
    When the image's health check is run inside the container
    Then the image's health check passed
    And the server in the container does not run as root
