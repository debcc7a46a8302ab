"""The grading results JSON: one versioned shape for every outcome (see docs/grading.md).

Built on the server from the learner's run and a trusted :class:`~questlab.grading.judge.bank.Entry`;
this is where message keys become sentences in the learner's locale.
"""

from __future__ import annotations

from typing import Any

from questlab.grading.judge.bank import Entry
from questlab.grading.judge.grade import (
    ChecksBroken,
    Outcome,
    diagnosis_for,
    load_checks,
    match_mistake,
    parse_tree,
    read_report,
    run_checks,
    syntax_problem,
)
from questlab.grading.messages import localize
from questlab.runner.limits import END_SENTENCES

#: The runner's sentences for what a run cannot do, and the grading sentences that say it.
_HINTS = {END_SENTENCES["no_network"]: "learner_no_network", END_SENTENCES["no_input"]: "learner_no_input"}

#: Version of the results JSON.
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
        text: what the program printed (possibly already cut in the sandbox).
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


def error_results(message: str, locale: str, tests: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Results with status ``error`` and ``message`` (a sentence in ``locale``)."""
    return {
        "version": RESULTS_VERSION,
        "status": "error",
        "message": message,
        "locale": locale,
        "tests": tests or [],
    }


def _tests(
    outcomes: list[Outcome],
    observations: dict[str, Any],
    entry: Entry,
    code: str,
    stdout: str,
    locale: str,
    mistake_texts: dict[str, dict[str, str]],
) -> tuple[list[dict[str, Any]], str | None]:
    """The per-test entries, and the name of the mistake variant matched (if any)."""
    matched = match_mistake(entry.mistakes, outcomes, observations, stdout)
    tree = parse_tree(code)
    tests = []
    explained: dict[str, str] = {}
    for outcome in outcomes:
        message = diagnosis = None
        if outcome.failure is not None:
            failure = outcome.failure
            text = failure.text or (outcome.check.text if failure.key is None else None)
            message = localize(failure.key or "", failure.params, locale, text=text)
            why = None
            if matched is not None and outcome.check.name in matched.failing:
                diagnosis = matched.name
                if diagnosis in explained:
                    why = localize("same_cause", {"name": explained[diagnosis]}, locale)
                else:
                    explained[diagnosis] = outcome.check.name
                    texts = mistake_texts.get(matched.name, {})
                    why = texts.get(locale) or texts.get("en") or ""
            elif (found := diagnosis_for(outcome, observations, tree)) is not None:
                name, key, params = found
                diagnosis = name
                signature = repr((key, sorted(params.items())))
                if signature in explained:
                    why = localize("same_cause", {"name": explained[signature]}, locale)
                else:
                    explained[signature] = outcome.check.name
                    why = localize(key, params, locale)
            if why:
                message = f"{message} {why}" if message else why
        tests.append(
            {
                "name": outcome.check.name,
                "status": "pass" if outcome.passed else "fail",
                "message": message,
                "output": cap_output(stdout, locale) if outcome.check.uses_output else None,
                "diagnosis": diagnosis,
            }
        )
    return tests, matched.name if matched else None


def grade(exercise: Any, entry: Entry, result: Any, code: str, locale: str = "en") -> dict[str, Any]:
    """Judge a learner's run against a trusted entry and build the results JSON in ``locale``.

    Args:
        exercise: the :class:`questlab.content.model.Exercise` (its checks and mistake texts).
        entry: the trusted evidence for the seed the run was given.
        result: the learner's :class:`questlab.runner.RunResult` (run with that seed's harness).
        code: the learner's program.
        locale: ``"ko"`` or ``"en"``.

    Returns:
        ``{"version", "status": "pass"|"fail"|"error", "message", "locale", "tests": [{"name",
        "status", "message", "output", "diagnosis"}]}``. Runner limits (time, memory, output) and
        a program that stops early are errors with the reason; a report that is missing or
        malformed fails every check. A ``grader_error`` key is added when the checks are broken
        (the web API logs and drops it).

    Raises:
        Nothing for learner data; :class:`ChecksBroken` only surfaces as ``grader_error``.
    """
    status = getattr(result, "status", "error")
    if status in _RUNNER_ERRORS:
        reason = getattr(result, "message", None) or status
        return error_results(localize(_RUNNER_ERRORS[status], {"reason": reason}, locale), locale)
    try:
        checks = load_checks(exercise.checks)
    except ChecksBroken as broken:
        out = error_results(localize("grader_broken", None, locale), locale)
        out["grader_error"] = str(broken)
        return out
    report = read_report(getattr(result, "report", None))
    stdout = getattr(result, "stdout", "") or ""
    try:
        outcomes = run_checks(checks, report.observations, entry.reference, stdout, code)
    except ChecksBroken as broken:
        out = error_results(localize("grader_broken", None, locale), locale)
        out["grader_error"] = str(broken)
        return out
    texts = {m.name: m.texts for m in exercise.mistakes}
    tests, _ = _tests(outcomes, report.observations, entry, code, stdout, locale, texts)
    if report.problem:
        message = localize("no_report", None, locale)
        return error_results(message, locale, tests)
    if report.learner_error:
        error = report.learner_error
        detail = (getattr(result, "traceback", None) or "").rstrip()
        text = f"{error['type']}: {error['message']}" if error["message"] else error["type"]
        key = "learner_raised" if error["line"] else "learner_raised_noline"
        message = localize(key, {"error": text, "line": error["line"], "detail": detail}, locale).rstrip()
        hint = _HINTS.get(getattr(result, "message", None) or "")
        if hint:  # say why before the traceback: a run has no network, no keyboard
            first, _, rest = message.partition("\n")
            message = f"{first} {localize(hint, None, locale)}" + (f"\n{rest}" if rest else "")
        return error_results(message, locale, tests)
    failed = any(t["status"] != "pass" for t in tests)
    return {
        "version": RESULTS_VERSION,
        "status": "fail" if failed else "pass",
        "message": None,
        "locale": locale,
        "tests": tests,
    }


def syntax_results(code: str, locale: str) -> dict[str, Any] | None:
    """Results for a program that does not compile (decided without running it), else ``None``."""
    problem = syntax_problem(code)
    if problem is None:
        return None
    params = {
        "error": f"{problem['type']}: {problem['message']}",
        "line": problem["line"] or "?",
        "detail": problem["detail"],
    }
    return error_results(localize("syntax_error", params, locale).rstrip(), locale)


__all__ = [
    "RESULTS_VERSION",
    "cap_output",
    "error_results",
    "grade",
    "read_report",
    "syntax_results",
]
