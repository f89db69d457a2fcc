@atlas @performance @req.PERF-OVERHEAD
Feature: ATLAS adds little to a completion
  The requirements bound ATLAS's overhead against standard inference at 10 ms. The same
  1-token completion is sent with ATLAS on and off, one request at a time, in interleaved pairs
  whose order alternates, so a slow moment of a shared machine hits both members of a pair.

  The default run judges the median of the per-pair ratios (ATLAS on / ATLAS off): a machine
  k times slower makes both members k times slower, so the ratio stays where the difference
  is multiplied (the reference's ATLAS work, NumPy on a worker thread, measured 1.2 ms quiet and
  over 10 ms while other jobs held the cores). The absolute overhead, the median of the per-pair
  differences, is reported beside it, and gated in the @hardware outline (-D hardware=yes).
  The ratio does not stay quite still under load: an ATLAS request makes more hops between
  threads and processes (tokenising through the engine, the memory thread), and each hop waits
  longer for a core on a busy machine. Measured on 2 shared cores, same server: 1.15 quiet
  (27.6 ms off, 31.8 ms on), 1.54 and 1.45 under a load average of 15 (62 ms off, 101 ms on).
  A server that waits 50 ms more per ATLAS request measured 2.29 and 2.31 under the same load
  (65 ms off, 150 ms on); about 2.8 quiet. Hence 2. The plain-server row compares two engines
  that take turns on the cores (measured 1.28 and 0.91 there), so it gets more room: 2.5.

  @timing
  Scenario Outline: ATLAS on against <against>, at most <ratio> times as long
    Given the ATLAS server is running
    When I send <pairs> interleaved pairs of the same 1-token completion, with ATLAS and against <against>
    Then every paired request succeeded
    And the median of the paired ratios is at most <ratio>

    Examples: same-run ratios
      | pairs | against                                  | ratio |
      | 150   | the same server without the atlas object | 2.0   |
      | 150   | a plain server started without ATLAS     | 2.5   |

  @hardware
  Scenario Outline: On dedicated hardware, ATLAS on against <against> adds under <bound_ms> ms
    Given the ATLAS server is running
    When I send <pairs> interleaved pairs of the same 1-token completion, with ATLAS and against <against>
    Then every paired request succeeded
    And the median of the paired differences is under <bound_ms> ms

    Examples: the required bound
      | pairs | against                                  | bound_ms |
      | 150   | the same server without the atlas object | 10       |
      | 150   | a plain server started without ATLAS     | 10       |
