"""Reusable behave steps for QA: generic HTTP and JSON checks.

Pull them into a suite with a one-line module in ``steps/``::

    from atlas_suite.steplib.http_steps import *  # noqa
"""
