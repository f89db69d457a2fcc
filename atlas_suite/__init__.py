"""The acceptance suite's library: targets, servers, HTTP, JSON paths, schemas, memory files.

Feature files talk to step modules (``steps/``), step modules talk to this package, and this
package talks to the server under test. Nothing here imports the reference server (an optional
extra): the models come from the neutral ``atlas_models`` package.
"""
