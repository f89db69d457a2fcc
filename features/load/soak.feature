@atlas @soak @req.QUAL-SOAK
Feature: A long run stays stable: no leak, no slowdown, no crash
  The founding document asks for 24 hours of continuous operation. Users send a mix of ATLAS,
  streamed ATLAS and plain completions for the soak duration: -D soak_duration=SECONDS,
  75 s by default (CI), 86400 for the founding document's day (make soak SOAK_DURATION=86400).
  Soak scenarios are left out of ordinary runs (default_tags); run them with --tags=soak.

  Scenario Outline: <users> users for the soak duration
    Given the ATLAS server is running
    And the server's process can be watched
    When <users> users send a mix of ATLAS, streamed ATLAS and plain completions of <tokens> tokens for the soak duration
    Then every request was answered
    And no request failed except with a documented 503
    And the server process is still running
    And the throughput of the last third is at least <throughput_ratio> times that of the first third
    And the p95 latency of the last third is at most <latency_ratio> times that of the first third
    And the server's RSS slope is under <rss_slope> MB per hour
    And within 30 seconds the server reports no active requests

    Examples: CI bounds (a minute is short: the RSS slope bound is loose; a day tightens it)
      | users | tokens | throughput_ratio | latency_ratio | rss_slope |
      | 8     | 8      | 0.6              | 1.8           | 200       |
