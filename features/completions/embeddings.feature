@completions
Feature: A server started for embeddings turns texts into vectors
  Applications that search or group texts ask the server for embeddings (POST /v1/embeddings,
  answered as OpenAI's own client expects). llama-server serves them beside completions when it
  is started with --embeddings, and with a pooling that makes one vector of each text
  (--pooling mean); the suite starts the server so. A server that cannot be started so, or that
  answers that it has no embeddings, skips with the reason.

  Scenario: Two texts turned into embeddings give one vector each, of one length
    Given a server started to serve embeddings
    When I ask for the embeddings of two texts
    Then the answer has one vector per text, all of the same length
