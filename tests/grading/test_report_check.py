"""The server believes a harness report only when it lists exactly the exercise's declared checks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from questlab.grading.harness import declared_checks
from questlab.grading.results import grading_from_run

CHECKS = """
from questlab.grading import api
from questlab.grading.api import check

@check("first", aspect="structure")
def first(sub): pass

def helper(): pass

@api.check(name="second")
def second(sub): pass

@check("fourth")
@check("third")
def both(sub): pass
"""


def run_with(tests: list[dict], learner_error: dict | None = None) -> SimpleNamespace:
    report = {"harness": 1, "learner_error": learner_error, "checks_error": None, "tests": tests}
    return SimpleNamespace(status="ok", report=report, stdout="", traceback=None, message=None)


def passing(*names: str) -> list[dict]:
    return [{"name": n, "status": "pass", "failure": None, "diagnosis": None} for n in names]


def test_declared_checks_in_registration_order() -> None:
    assert declared_checks(CHECKS) == ("first", "second", "third", "fourth")


def test_a_check_name_must_be_a_literal() -> None:
    with pytest.raises(ValueError, match="string literal"):
        declared_checks(
            'from questlab.grading.api import check\nNAME = "x"\n@check(NAME)\ndef x(sub): pass\n'
        )


def test_exact_report_is_believed() -> None:
    expected = ("first", "second")
    assert grading_from_run(run_with(passing("first", "second")), "en", expected)["status"] == "pass"


@pytest.mark.parametrize(
    "names",
    [("second", "first"), ("first",), ("first", "second", "extra"), ("everything",), ()],
)
def test_other_names_or_order_are_an_error(names: tuple[str, ...]) -> None:
    results = grading_from_run(run_with(passing(*names)), "en", ("first", "second"))
    assert results["status"] == "error" and results["tests"] == [] and results["report_invalid"]
    assert "not valid" in results["message"]


def test_syntax_error_lists_no_tests() -> None:
    syntax = {"type": "SyntaxError", "message": "bad", "line": 1, "syntax": True}
    assert grading_from_run(run_with([], syntax), "en", ("first",))["status"] == "error"
    assert "report_invalid" not in grading_from_run(run_with([], syntax), "en", ("first",))
    forged = grading_from_run(run_with(passing("first"), syntax), "en", ("first",))
    assert forged.get("report_invalid")


def test_wrong_harness_version_is_an_error() -> None:
    run = run_with(passing("first"))
    run.report["harness"] = 2
    assert grading_from_run(run, "en", ("first",)).get("report_invalid")
