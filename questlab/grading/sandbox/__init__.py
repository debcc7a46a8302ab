"""The sandbox side of grading: code that runs inside the learner's own process.

Everything here is *observation*: it reads what the learner's program (or the
reference solution, or a mistake variant) left behind and reports plain data.
Nothing here decides a verdict, and nothing here may hold an expected value:
the learner's code runs first in the same process and can read or replace any
of it. Verdicts are made by :mod:`questlab.grading.judge`, where learner code
never ran. See docs/grading.md.

An exercise's ``probe.py`` imports its helpers from this package::

    from questlab.grading.sandbox import observation, describe_module
"""

from questlab.grading.sandbox.observe import (
    Submission,
    Unobservable,
    describe_module,
    observation,
)

__all__ = ["Submission", "Unobservable", "describe_module", "observation"]
