@docker @gpu @atlas @deployment @req.INT-DOCKER-GPU @req.PERF-GPU-TPS
Feature: The ATLAS server runs on a GPU from its GPU container image
  With an NVIDIA GPU and the engine's NVIDIA runtime, the GPU image (docker/Dockerfile.gpu)
  offloads the model: it must generate more than 10 tokens per second, and the GPU must really
  be doing the work while requests are served (utilisation read through NVML).

  Scenario: The GPU container generates more than 10 tokens per second and keeps the GPU busy
    Given the ATLAS server container is running on the GPU
    When I ask for the server status
    And 20 long ATLAS completions are sent through 4 workers while the GPU is watched
    Then the reported generation speed is above 10 tokens per second
    And at least one of them succeeds
    And no request went unanswered
    And the GPU was busy during the load
