"""Experiments the load scenarios run, as library functions with typed results.

Each takes what it drives (a base URL, a load engine) and returns a result that knows its
figures (``figures()`` for the JSON report, ``table()`` for the text summary); the steps run
it, publish it and compare its figures with the bounds of the feature's Examples. Nothing here
knows behave, so the experiments are unit-tested against local test servers and can be run by
scripts as well.
"""
