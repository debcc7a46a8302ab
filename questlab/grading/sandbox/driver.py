"""Runs an exercise's ``probe.py`` after the program and reports the observations (sandbox side).

Called by the harness source that :func:`questlab.grading.judge.harness.probe_harness`
builds. Report (``probe`` version 2)::

    {"probe": 2,
     "learner_error": null | {"type", "message", "line"},
     "probe_error": null | "traceback of probe.py itself",
     "observations": {name: encoded data | {"$error": {...}}}}

The report is evidence, never a verdict: the learner's program ran first in this
process and may have replaced any of this code.
"""

from __future__ import annotations

import io
import sys
import traceback
from collections.abc import Callable
from typing import Any

from questlab.grading.sandbox import observe, wire
from questlab.grading.sandbox.inputs import Inputs

PROBE_VERSION = 2


def learner_error(exc: BaseException | None) -> dict[str, Any] | None:
    """Describe the exception that ended the program (``None``: normal end or ``sys.exit(0)``)."""
    if exc is None or (isinstance(exc, SystemExit) and exc.code in (None, 0)):
        return None
    data = observe.error_data(exc)["$error"]
    return {"type": data["type"], "message": data["message"], "line": data["line"]}


def run_probe(
    probe_source: str,
    seed: int,
    ns: dict[str, Any],
    exc: BaseException | None,
    report: Callable[[Any], None],
) -> None:
    """Run ``probe_source``'s observations on the program's namespace and ``report()`` them.

    Args:
        probe_source: the exercise's ``probe.py``.
        seed: the submission's seed, for :class:`~questlab.grading.sandbox.inputs.Inputs`.
        ns: the program's globals after it ran.
        exc: the exception that ended the program, or ``None``.
        report: the runner's one-shot report channel (JSON, at most 256,000 bytes).
    """
    observe.OBSERVATIONS.clear()
    inputs = Inputs(seed)
    observe.CURRENT["inputs"] = inputs
    raw: dict[str, Any] = {
        "probe": PROBE_VERSION,
        "learner_error": learner_error(exc),
        "probe_error": None,
        "observations": {},
    }
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = io.StringIO()  # what the probes make the program print is not output
    try:
        try:
            exec(compile(probe_source, "probe.py", "exec"), {"__name__": "probe"})
        except BaseException:
            raw["probe_error"] = traceback.format_exc()[-4000:]
            return
        sub = observe.Submission(ns, inputs)
        budget = wire.Budget()
        for name, func in list(observe.OBSERVATIONS):
            try:
                raw["observations"][name] = wire.encode(func(sub), budget)
            except (Exception, SystemExit) as err:
                raw["observations"][name] = observe.error_data(err)
    finally:
        sys.stdout, sys.stderr = saved
        try:
            report(raw)
        except (TypeError, ValueError) as err:  # too large: say so instead of sending nothing
            too_large = {
                "$error": {
                    "type": "ReportTooLarge",
                    "message": str(err)[:200],
                    "line": None,
                    "key": "observation_too_large",
                    "params": {},
                }
            }
            raw["observations"] = {name: too_large for name in raw["observations"]}
            report(raw)
