Feature: A server says it is not ready while it loads its model
  Load balancers and orchestrators route traffic by /health. While the model loads, /health
  answers 503 in the OpenAI error envelope; only a server that can answer says 200.

  @req.API-READY-LOADING @req.ERR-ENVELOPE
  Scenario: A server answers /health with 503 while its model loads, then 200
    Given a newly started server under test
    Then while it was loading, the server answered /health with 503 in the error envelope
    And the server is healthy

  @req.API-START
  Scenario: A server started with llama-server's -c, -np and -t flags serves completions
    Given a server under test started with 2048 tokens of context, 2 slots and 2 threads
    When I send a text completion without the ATLAS extension
    Then the answer is a plain OpenAI completion
