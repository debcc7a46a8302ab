"""Runs an exercise's checks inside the sandbox, after the learner's code, and reports raw results.

Called by the harness source that :func:`questlab.grading.harness.build_harness`
builds. It reports message *keys* and parameters, never sentences: the server
localizes them (:func:`questlab.grading.results.grading_from_run`).

Raw report (``harness`` version 1)::

    {"harness": 1,
     "learner_error": null | {"type": "NameError", "message": "...", "line": 3, "syntax": false},
     "checks_error": null | "traceback of checks.py itself",
     "tests": [{"name": "...", "status": "pass" | "fail" | "error",
                "failure": null | {"key": "...", "params": {...}, "text": null | {"ko", "en"}},
                "diagnosis": null | {"name": "...", "key": "...", "params": {...}},
                "output": "printed while the check ran", "output_length": 0,
                "uses_output": false}]}
"""

from __future__ import annotations

import io
import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

from questlab.grading import api
from questlab.grading.diagnoses import diagnose

HARNESS_VERSION = 1
#: Characters of output kept per check.
OUTPUT_CAP = 4000


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v) for k, v in params.items()}


def learner_error(exc: BaseException | None) -> dict[str, Any] | None:
    """Describe the exception that ended the learner's program (``None``: normal end or ``sys.exit(0)``)."""
    if exc is None or (isinstance(exc, SystemExit) and exc.code in (None, 0)):
        return None
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return {
        "type": type(exc).__name__,
        "message": message[:500],
        "line": api.learner_line(exc),
        "syntax": isinstance(exc, SyntaxError),
    }


def _run_one(check: api.Check, sub: api.Submission) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": check.name,
        "status": "pass",
        "failure": None,
        "diagnosis": None,
        "uses_output": check.uses_output,
    }
    failure: BaseException | None = None
    try:
        check.func(sub)
    except api.CheckFailed as e:
        failure = e
        e.context = {**(check.context or {}), **e.context}
        text = e.text or (check.text if e.key is None else None)
        entry["status"] = "fail"
        entry["failure"] = {"key": e.key or "", "params": _jsonable(e.params), "text": text}
    except (Exception, SystemExit) as e:  # the learner's code raised while the check used it
        failure = e
        if check.context:  # hand the check's facts to the diagnoses; the exception stays reachable
            failure = api.CheckFailed("check_raised", context={**check.context, "exception": e})
            failure.__cause__ = e
        entry["status"] = "fail"
        entry["failure"] = {"key": "check_raised", "params": {"error": api.describe(e)}, "text": None}
    if failure is not None:
        found = diagnose(sub, failure, check.aspect)
        if found is not None:
            name, finding = found
            entry["diagnosis"] = {"name": name, "key": finding.key, "params": _jsonable(finding.params)}
    return entry


def run_checks(
    checks_source: str,
    ns: dict[str, Any],
    exc: BaseException | None,
    learner_stdout: Callable[[], str],
    report: Callable[[Any], None],
) -> None:
    """Run ``checks_source`` against the learner's namespace and ``report()`` the raw results."""
    api.REGISTRY.clear()
    raw: dict[str, Any] = {
        "harness": HARNESS_VERSION,
        "learner_error": learner_error(exc),
        "checks_error": None,
        "tests": [],
    }
    if raw["learner_error"] and raw["learner_error"]["syntax"]:
        report(raw)
        return
    sub = api.Submission(ns, exc, learner_stdout())
    saved = sys.stdout, sys.stderr
    try:
        namespace = {"__name__": "checks", "__builtins__": __builtins__}
        exec(compile(checks_source, "checks.py", "exec"), namespace)
    except BaseException:
        raw["checks_error"] = traceback.format_exc()[-4000:]
        report(raw)
        return
    for check in list(api.REGISTRY):
        captured = io.StringIO()
        sys.stdout = sys.stderr = captured
        try:
            entry = _run_one(check, sub)
        finally:
            sys.stdout, sys.stderr = saved
        printed = captured.getvalue()
        entry["output"], entry["output_length"] = printed[:OUTPUT_CAP], len(printed)
        raw["tests"].append(entry)
    try:
        report(raw)
    except (TypeError, ValueError):  # something unserialisable slipped into params
        report(json.loads(json.dumps(raw, default=str)))
