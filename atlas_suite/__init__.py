"""The acceptance suite's library: targets, servers, HTTP, JSON paths, schemas, memory files.

Feature files talk to step modules (``steps/``), step modules talk to this package, and this
package talks to the server under test. Nothing here imports the reference server, except
``targets.default_model_path`` which asks it where the default model lives.
"""
