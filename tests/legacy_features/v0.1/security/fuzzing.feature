@fuzz @security
Feature: Generated requests never break the server or the contract
  Requests generated from the contract's OpenAPI document (schemas/openapi.yaml) - valid ones,
  and ones that break the document - are sent to every route with the API key. Whatever the
  input, the server answers without a 5xx, every answer is what the document describes (status,
  content type, headers, body), the key never appears in an answer, and no file appears outside
  the memory folder. A failing case is reported as a curl command that sends it again.

  The default run sends a few cases per route (-D fuzz_examples=15, the same cases every run);
  `make fuzz` sends many more, new ones each run (docs/fuzzing.md).

  @req.QUAL-NO-CRASH @req.ERR-ENVELOPE @req.SEC-KEY-SECRET
  Scenario: Every route holds against requests generated from the OpenAPI document
    Given a server to fuzz that requires the API key "suite-fuzz-key-5d1e"
    When I fuzz every route of the OpenAPI document
    Then every route of the document was reached by generated requests
    And every generated request was answered as the OpenAPI document says
