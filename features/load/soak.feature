@atlas @soak @req.QUAL-SOAK
Feature: A long run stays stable: no leak, no slowdown, no crash
  The requirements ask for 24 hours of continuous operation. Users send a mix of ATLAS,
  streamed ATLAS and plain completions for the soak duration: -D soak_duration=SECONDS,
  75 s by default (CI), 86400 for the required day (make soak SOAK_DURATION=86400).
  The CI soak runs in the default run (make test); make soak runs it alone.

  The two thirds compared are 25 s apart in CI: on a shared machine other jobs can start or
  stop between them, and a third can run at a fraction of the other's speed. Throughput, last
  third against the first: 0.85 and 0.98 quiet, 0.40 in a 30 s soak while the load average
  moved around 15 (p95 ratio 1.03 and 0.91 quiet, 0.83 there). So CI's bounds only catch a
  collapse, a server five times slower at the end of a minute than at its start (throughput
  0.2, p95 5).

  A leak is judged against work done, not time: the server's RSS against the number of requests
  completed so far. A correct reference server grew 1.0 and 1.9 KB per request in 75 s (its
  RSS breathes by about 2 MB); one that kept 15 KB of every ATLAS request grew 12.8 KB per
  request, 3.6 MB steadily, where its RSS slope per hour (184 MB) stayed under the hourly bound.
  Growth inside the RSS's own spread around the fit is not counted on a short run. The founding
  document's day on a dedicated machine uses the @hardware row (-D hardware=yes
  -D soak_duration=86400).

  @timing
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
    And the server's memory grows by less than <kb_per_request> KB per completed request
    And within 30 seconds the server reports no active requests

    Examples: CI bounds (a minute is short: the RSS slope bound is loose; a day tightens it)
      | users | tokens | throughput_ratio | latency_ratio | rss_slope | kb_per_request |
      | 8     | 8      | 0.2              | 5             | 200       | 5              |

    @hardware
    Examples: a dedicated machine
      | users | tokens | throughput_ratio | latency_ratio | rss_slope | kb_per_request |
      | 8     | 8      | 0.6              | 1.8           | 200       | 5              |
