"""The grading results JSON: one versioned shape for every outcome (see docs/grading.md).

Built on the server from a :class:`~questlab.runner.RunResult` whose ``report``
came from :mod:`questlab.grading.driver`; this is where keys become sentences
in the learner's locale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from questlab.grading.messages import localize
from questlab.runner.limits import END_SENTENCES

#: The runner's sentences for what a run cannot do, and the grading sentences that say it.
_HINTS = {END_SENTENCES["no_network"]: "learner_no_network", END_SENTENCES["no_input"]: "learner_no_input"}

#: Version of the results JSON produced by :func:`grading_from_run`.
RESULTS_VERSION = 1
#: Characters of output kept per test before the truncation notice.
OUTPUT_CAP = 4000

_RUNNER_ERRORS = {
    "timeout": "run_timeout",
    "memory": "run_memory",
    "output_limit": "run_output_limit",
    "killed": "run_killed",
    "busy": "run_busy",
}


def cap_output(text: str | None, locale: str, total: int | None = None) -> str | None:
    """``text`` cut to :data:`OUTPUT_CAP` characters with a visible notice, or ``None`` when empty.

    Args:
        text: what the learner printed (possibly already cut in the sandbox).
        locale: language of the notice.
        total: the full length when ``text`` was already cut before.
    """
    if not text:
        return None
    total = max(total or 0, len(text))
    if total <= OUTPUT_CAP:
        return text
    notice = localize("output_truncated", {"shown": OUTPUT_CAP, "total": total}, locale)
    return text[:OUTPUT_CAP].rstrip("\n") + "\n" + notice


def _error(message: str, locale: str, tests: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "version": RESULTS_VERSION,
        "status": "error",
        "message": message,
        "locale": locale,
        "tests": tests or [],
    }


def _test(raw: dict[str, Any], stdout: str, locale: str, explained: dict[str, str]) -> dict[str, Any]:
    """One test entry; ``explained`` maps diagnoses already spelled out to the test that did it."""
    status = raw.get("status") if raw.get("status") in ("pass", "fail", "error") else "error"
    message = None
    failure, diagnosis = raw.get("failure"), raw.get("diagnosis")
    if status != "pass" and failure:
        message = localize(failure.get("key", ""), failure.get("params"), locale, text=failure.get("text"))
    if status != "pass" and diagnosis:
        # The first test a mistake breaks explains it; later ones point back instead of repeating it.
        signature = repr((diagnosis.get("key"), sorted((diagnosis.get("params") or {}).items())))
        if signature in explained:
            why = localize("same_cause", {"name": explained[signature]}, locale)
        else:
            explained[signature] = str(raw.get("name", ""))
            why = localize(diagnosis.get("key", ""), diagnosis.get("params"), locale)
        message = f"{message} {why}" if message else why
    if raw.get("uses_output"):
        output = cap_output(stdout, locale)
    else:
        output = cap_output(raw.get("output"), locale, raw.get("output_length"))
    return {
        "name": str(raw.get("name", "")),
        "status": status,
        "message": message,
        "output": output,
        "diagnosis": diagnosis.get("name") if status != "pass" and diagnosis else None,
    }


def _report_matches(report: dict[str, Any], expected: Sequence[str]) -> bool:
    """Whether ``report`` lists exactly the ``expected`` checks, in order (none after a SyntaxError)."""
    if report.get("harness") != 1 or not isinstance(report.get("tests"), list):
        return False
    names = [t.get("name") if isinstance(t, dict) else None for t in report["tests"]]
    learner = report.get("learner_error")
    syntax = isinstance(learner, dict) and bool(learner.get("syntax"))
    return names == ([] if syntax else list(expected))


def grading_from_run(
    result: Any, locale: str = "en", expected: Sequence[str] | None = None
) -> dict[str, Any]:
    """Turn a runner result into the grading results JSON, in ``locale``.

    Args:
        result: a :class:`questlab.runner.RunResult` of a run with a grading harness.
        locale: ``"ko"`` or ``"en"``; every message is in this language.
        expected: the names of the exercise's checks, in order, as the server reads them from
            ``checks.py`` (:func:`questlab.grading.harness.declared_checks`). A report listing
            anything else (a forged one, written by the learner's code) is an ``error``:
            "the grader's report was not valid". ``None`` skips this (trusted code only).

    Returns:
        ``{"version", "status": "pass"|"fail"|"error", "message", "locale", "tests": [{"name",
        "status", "message", "output", "diagnosis"}]}``; ``message`` is set when the status is
        ``error``. Runner limits (time, memory, output) are errors with the runner's reason.
        A ``grader_error`` key (the checks' own traceback) is added when the checks are broken;
        the web API leaves it out. A ``report_invalid`` key (``True``) marks a report that did not
        list the expected checks; the web API leaves it out too.
    """
    status = getattr(result, "status", "error")
    if status in _RUNNER_ERRORS:
        reason = getattr(result, "message", None) or status
        return _error(localize(_RUNNER_ERRORS[status], {"reason": reason}, locale), locale)
    report = getattr(result, "report", None)
    if not isinstance(report, dict) or "tests" not in report:
        if getattr(result, "harness_error", None):
            out = _error(localize("grader_broken", None, locale), locale)
            out["grader_error"] = result.harness_error
            return out
        message = getattr(result, "message", None)
        return _error(message or localize("no_report", None, locale), locale)
    if report.get("checks_error"):
        out = _error(localize("grader_broken", None, locale), locale)
        out["grader_error"] = report["checks_error"]
        return out
    if expected is not None and not _report_matches(report, expected):
        out = _error(localize("report_invalid", None, locale), locale)
        out["report_invalid"] = True
        return out
    stdout = getattr(result, "stdout", "") or ""
    explained: dict[str, str] = {}
    tests = [_test(t, stdout, locale, explained) for t in report["tests"] if isinstance(t, dict)]
    learner = report.get("learner_error")
    if learner:
        detail = (getattr(result, "traceback", None) or "").rstrip()
        error = learner.get("type")
        if learner.get("message"):
            error = f"{error}: {learner.get('message')}"
        params = {"error": error, "line": learner.get("line"), "detail": detail}
        key = (
            "syntax_error"
            if learner.get("syntax")
            else ("learner_raised" if learner.get("line") else "learner_raised_noline")
        )
        message = localize(key, params, locale).rstrip()
        hint = _HINTS.get(getattr(result, "message", None) or "")
        if hint:  # say why before the traceback: a run has no network, no keyboard
            first, _, rest = message.partition("\n")
            message = f"{first} {localize(hint, None, locale)}" + (f"\n{rest}" if rest else "")
        return _error(message, locale, tests)
    failed = any(t["status"] != "pass" for t in tests)
    return {
        "version": RESULTS_VERSION,
        "status": "fail" if failed or not tests else "pass",
        "message": None,
        "locale": locale,
        "tests": tests,
    }
