"""Mutation testing of the suite: deliberate faults in copies of the reference server.

A fault (``mutation/faults/*.toml``) is one textual patch to the reference server's source
that breaks one requirement of ``requirements/catalog.toml``. The harness applies each fault
to its own copy of the server code, runs the scenarios tagged for that requirement against
it, and says whether the suite noticed (the fault is *killed*) or not (it *survived*: a gap in
the suite). ``catalogue`` reads and applies faults, ``runner`` runs them, ``report`` renders
and stores the outcome that the traceability report reads back.
"""
