@atlas @performance @req.LOAD-SAVE-LOAD-CYCLES @req.PERF-SAVE-LOAD-TIME
Feature: A thousand save and load cycles, with no error, nothing left behind, steady timing
  The requirements ask for 1000+ save/load cycles without issue, a save under 5 s and a
  load under 2 s. The default memory is saved and loaded back, one request at a time; now and
  then an ATLAS completion changes it, so saves write new states. Each load must give back the
  fingerprint just saved, no temporary file may stay in the memory folder, and the last cycles
  may not be much slower than the first.

  On a busy machine: saves and loads take 2 to 30 ms (p50 2.6 ms quiet); the 5 s and 2 s are
  a thousand times that, so they are about correctness, not speed. The default run bounds the
  p99 (the 10 slowest of 1000 may wait on a disk or cores that other jobs keep busy: one took
  250 ms here under a load average of 15, with a p50 of 26 ms and a p99 of 83 ms); @hardware
  bounds every one. Steady cost: the server process's CPU time over the last 100 cycles against
  the first 100 (a server the suite did not start: wall-clock time). Wall-clock time moves with
  the machine: its median over the last 100 cycles against the first measured 0.9 quiet, and
  0.31 and 0.50 in two runs while the load average fell (80 ms a cycle, then 25 ms); the CPU
  time moves less (0.73 in the second run: 6.4 ms a cycle, then 4.7). Bound 3. A save that
  re-digests everything it saved before costs more at every cycle and exceeds it many times.

  @timing
  Scenario Outline: <cycles> save and load cycles
    Given the ATLAS server is running
    When the memory is saved and loaded <cycles> times as "load-cycles.atlas", reading a little text every <every> cycles
    Then every save and load succeeded, and each load gave back the fingerprint just saved
    And 99 % of saves took under <save_s> seconds and 99 % of loads under <load_s> seconds
    And the last <window> cycles cost the server at most <ratio> times what the first <window> did
    And once "load-cycles.atlas" is deleted, the memory folder holds exactly what it held before
    And the server is healthy

    Examples: the required count and times, for the 99th percentile
      | cycles | every | save_s | load_s | window | ratio |
      | 1000   | 50    | 5      | 2      | 100    | 3.0   |

  @hardware
  Scenario Outline: On dedicated hardware, every one of <cycles> saves and loads is within the founding bounds
    Given the ATLAS server is running
    When the memory is saved and loaded <cycles> times as "load-cycles.atlas", reading a little text every <every> cycles
    Then every save and load succeeded, and each load gave back the fingerprint just saved
    And every save took under <save_s> seconds and every load under <load_s> seconds
    And the median of the last <window> cycles is at most <ratio> times the median of the first <window>
    And once "load-cycles.atlas" is deleted, the memory folder holds exactly what it held before

    Examples: the required count and times
      | cycles | every | save_s | load_s | window | ratio |
      | 1000   | 50    | 5      | 2      | 100    | 2.0   |
