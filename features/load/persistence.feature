@atlas @performance @req.LOAD-SAVE-LOAD-CYCLES @req.PERF-SAVE-LOAD-TIME
Feature: A thousand save and load cycles, with no error, nothing left behind, steady timing
  The founding document asks for 1000+ save/load cycles without issue, a save under 5 s and a
  load under 2 s. The default memory is saved and loaded back, one request at a time; now and
  then an ATLAS completion changes it, so saves write new states. Each load must give back the
  fingerprint just saved, no temporary file may stay in the memory folder, and the last cycles
  may not be much slower than the first.

  Scenario Outline: <cycles> save and load cycles
    Given the ATLAS server is running
    When the memory is saved and loaded <cycles> times as "load-cycles.atlas", reading a little text every <every> cycles
    Then every save and load succeeded, and each load gave back the fingerprint just saved
    And every save took under <save_s> seconds and every load under <load_s> seconds
    And the median of the last <window> cycles is at most <ratio> times the median of the first <window>
    And once "load-cycles.atlas" is deleted, the memory folder holds exactly what it held before
    And the server is healthy

    Examples: the founding document's count and times
      | cycles | every | save_s | load_s | window | ratio |
      | 1000   | 50    | 5      | 2      | 100    | 2.0   |
