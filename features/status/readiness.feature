Feature: A server says it is not ready while it loads its model
  Load balancers and orchestrators route traffic by /health. While the model loads, /health
  answers 503 in the OpenAI error envelope; only a server that can answer says 200.

  @req.API-READY-LOADING @req.ERR-ENVELOPE
  Scenario: /health answers 503 until the model is loaded, then 200
    Given a newly started server under test
    Then while it was loading, the server answered /health with 503 in the error envelope
    And the server is healthy
