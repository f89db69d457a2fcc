@atlas @status
Feature: The metrics count the server's work, in JSON and for Prometheus
  Every completion, refusal, save and load moves the counters by exactly what it did, and the
  Prometheus exposition agrees with the JSON metrics. (The exact shapes of /v1/atlas/metrics
  and /metrics are in features/contract/status_routes.feature.)

  Background:
    Given the ATLAS server is running
    And the memory is saved as "metrics-probe.atlas"
    And the server's metrics have been read

  @req.API-METRICS
  Scenario Outline: <operation> adds <n> to the metric "<metric>"
    When <operation>
    Then the metric "<metric>" has grown by <n> since they were read

    Examples: completions
      | operation                                                                              | metric         | n |
      | I send a plain completion                                                              | requests.atlas | 0 |
      | I send a text completion with the ATLAS extension enabled                              | requests.atlas | 1 |
      | I send a text completion with the ATLAS extension {"enabled": true, "window_size": 0} | errors.total   | 1 |
      | I send a text completion with the ATLAS extension {"enabled": true, "window_size": 0} | requests.by_status.'400' | 1 |
      | I send a plain completion                                                              | errors.total   | 0 |

    Examples: memory files
      | operation                                 | metric       | n |
      | I save the memory as "metrics-saved.atlas" | memory.saves | 1 |
      | I load the memory file "metrics-probe.atlas" | memory.loads | 1 |
      | I load the memory file "metrics-probe.atlas" | memory.saves | 0 |

  @req.API-METRICS
  Scenario Outline: A <kind> completion <how> adds its tokens to the tokens generated
    When I send a <kind> completion <how>
    Then the metric "throughput.tokens_generated" has grown by the completion's tokens since they were read

    Examples:
      | kind | how                                 |
      | text | without the ATLAS extension         |
      | text | with the ATLAS extension enabled    |
      | chat | with the ATLAS extension enabled    |

  @req.API-PROMETHEUS
  Scenario Outline: Prometheus and the JSON metrics agree on <metric> after <operation>
    When <operation>
    Then the Prometheus sample "<sample>" equals the JSON metric "<metric>"

    Examples:
      | operation                                                                              | sample                                         | metric                   |
      | I send a text completion with the ATLAS extension enabled                              | atlas_memory_tokens_memorized                  | memory.tokens_memorized  |
      | I send a text completion with the ATLAS extension enabled                              | atlas_memory_updates                           | memory.updates           |
      | I send a plain completion                                                              | atlas_tokens_generated_total                   | throughput.tokens_generated |
      | I send a text completion with the ATLAS extension {"enabled": true, "window_size": 0} | atlas_requests_total{status="400"}             | requests.by_status.'400' |
      | I send a text completion with the ATLAS extension {"enabled": true, "window_size": 0} | atlas_errors_total{type="invalid_request_error"} | errors.by_type.invalid_request_error |

  @req.API-METRICS @slow
  Scenario: A newly started server reports its latency in milliseconds
    Given a newly started server under test
    When I send 4 plain completions one after another, timing each
    Then the median latency in the metrics is one of those completions', in milliseconds
