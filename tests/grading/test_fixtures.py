"""Every grading scenario: a submission and the results JSON it must produce, in both locales.

Regenerate after an intended change with ``QUESTLAB_UPDATE_FIXTURES=1`` and
review the diff of ``expected.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from questlab.grading.harness import build_harness, declared_checks, grading_from_run
from questlab.grading.messages import MESSAGES
from questlab.runner import RunnerService
from tests.grading.conftest import EXERCISE, REPO
from tests.grading.schema_check import validate

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCENARIOS = sorted(p.name for p in FIXTURES.iterdir() if (p / "submission.py").is_file())
#: Graded exercises by lesson slug (``02-parameters-and-buffers`` → ``parameters-and-buffers``).
EXERCISES = {
    path.parent.parent.name.split("-", 1)[1]: path.parent
    for path in (REPO / "quests" / "pytorch").glob("*/*/exercise/checks.py")
}


def exercise_of(scenario: str) -> Path:
    """A fixture ``<lesson slug>-<scenario>`` grades that lesson's exercise; any other the nn-module one."""
    for slug, folder in sorted(EXERCISES.items(), key=lambda item: -len(item[0])):
        if scenario.startswith(slug + "-"):
            return folder
    return EXERCISE


#: The diagnosis each classic-mistake fixture must trigger (on at least one failing check).
DIAGNOSED = {
    "plain_list": "plain_list",
    "plain_dict": "plain_list",
    "super_init_missing": "super_init",
    "super_init_late": "super_init",
    "plain_tensor": "plain_tensor",
    "unregistered_buffer": "unregistered_buffer",
    "wrong_layer_size": "layer_size",
    "missing_activation": "missing_activation",
    "forward_call": "forward_call",
    "parameters-and-buffers-all_buffers": "wrong_kind",
    "parameters-and-buffers-stats_as_parameters": "wrong_kind",
    "containers-plain_dict": "plain_list",
    "autograd-inplace_outside_no_grad": "leaf_inplace",
}


#: Scenarios whose message depends on how the machine's load makes the runner stop the code
#: (wall clock, CPU limit or a kill): compared without the message, which a test below checks.
LOAD_DEPENDENT = {"timeout"}


def _comparable(scenario: str, results: dict[str, dict]) -> dict[str, dict]:
    if scenario not in LOAD_DEPENDENT:
        return results
    return {locale: {**r, "message": "(depends on load)"} for locale, r in results.items()}


def grade(runner: RunnerService, code: str, exercise: Path = EXERCISE) -> dict[str, dict]:
    """Grade as the submit endpoint does: the report must list the checks declared in checks.py."""
    checks = (exercise / "checks.py").read_text()
    result = runner.run_sync(code, harness=build_harness(checks))
    graded = {locale: grading_from_run(result, locale, declared_checks(checks)) for locale in ("en", "ko")}
    for results in graded.values():
        results.pop("report_invalid", None)
    return graded


@pytest.fixture(scope="module")
def graded(runner: RunnerService, roomy_runner: RunnerService) -> dict[str, dict[str, dict]]:
    def grade_one(name: str) -> dict[str, dict]:
        exercise = exercise_of(name)
        chosen = runner if exercise == EXERCISE else roomy_runner
        return grade(chosen, (FIXTURES / name / "submission.py").read_text(), exercise)

    return {name: grade_one(name) for name in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fixture_matches_expected(scenario: str, graded: dict[str, dict[str, dict]]) -> None:
    actual = graded[scenario]
    path = FIXTURES / scenario / "expected.json"
    for results in actual.values():
        validate(results)
    actual = _comparable(scenario, actual)
    if os.environ.get("QUESTLAB_UPDATE_FIXTURES"):
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert actual == json.loads(path.read_text(encoding="utf-8"))


def test_every_scenario_has_a_fixture() -> None:
    wanted = {"correct", "syntax_error", "runtime_error", "timeout", "flood", "forged_report", *DIAGNOSED}
    assert wanted <= set(SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(DIAGNOSED))
def test_classic_mistake_is_diagnosed_in_both_locales(
    scenario: str, graded: dict[str, dict[str, dict]]
) -> None:
    name = DIAGNOSED[scenario]
    en, ko = graded[scenario]["en"], graded[scenario]["ko"]
    assert en["status"] in ("fail", "error")
    hits = [i for i, t in enumerate(en["tests"]) if t["diagnosis"] == name]
    assert hits, f"{scenario}: no check carries the {name!r} diagnosis: {en['tests']}"
    for i in hits:
        assert ko["tests"][i]["diagnosis"] == name
        assert en["tests"][i]["message"] and ko["tests"][i]["message"]
        assert en["tests"][i]["message"] != ko["tests"][i]["message"]
        hangul = any("\uac00" <= ch <= "\ud7a3" for ch in ko["tests"][i]["message"])
        assert hangul, "no Hangul in the ko message"


def test_correct_solution_passes(graded: dict[str, dict[str, dict]]) -> None:
    en = graded["correct"]["en"]
    assert en["status"] == "pass", en
    assert [t["name"] for t in en["tests"]] == [
        "defines_mlp",
        "layers",
        "parameter_count",
        "output_shape",
        "activations",
        "hooks_fire",
        "state_dict",
        "printed_parameters",
        "printed_total",
    ]
    assert all(t["status"] == "pass" and t["message"] is None for t in en["tests"])


def test_layer_size_shows_expected_and_actual_per_layer(graded: dict[str, dict[str, dict]]) -> None:
    tests = graded["wrong_layer_size"]["en"]["tests"]
    message = next(t["message"] for t in tests if t["diagnosis"] == "layer_size")
    assert "fc2: 32,896 → 16,448" in message and "fc3: 1,290 → 650" in message


def test_syntax_error_names_the_line(graded: dict[str, dict[str, dict]]) -> None:
    for locale in ("en", "ko"):
        results = graded["syntax_error"][locale]
        assert results["status"] == "error" and results["tests"] == []
        assert "SyntaxError" in results["message"] and "10" in results["message"]
        assert "def forward(self x):" in results["message"]


# On a loaded host the runner may report a CPU-limit kill as "killed" rather than
# "timeout"; either way grading must answer an error carrying the runner's reason.
@pytest.mark.parametrize(
    ("scenario", "keys"), [("timeout", ("run_timeout", "run_killed")), ("flood", ("run_output_limit",))]
)
def test_runner_limits_are_errors_with_the_reason(
    scenario: str, keys: tuple[str, ...], graded: dict[str, dict[str, dict]]
) -> None:
    for locale in ("en", "ko"):
        results = graded[scenario][locale]
        assert results["status"] == "error" and results["tests"] == []
        assert any(results["message"].startswith(MESSAGES[key][locale].split("(")[0].strip()) for key in keys)
        assert "stopped" in results["message"]


def test_starter_fails_and_solution_passes(runner: RunnerService) -> None:
    assert grade(runner, (EXERCISE / "starter.py").read_text())["en"]["status"] == "fail"
    assert grade(runner, (EXERCISE / "solution.py").read_text())["en"]["status"] == "pass"


def test_forged_report_is_not_believed(graded: dict[str, dict[str, dict]]) -> None:
    """A fake report written on the result pipe, listing other checks, is an error, never a pass."""
    for locale, results in graded["forged_report"].items():
        assert results["status"] == "error" and results["tests"] == []
        assert results["message"] == MESSAGES["report_invalid"][locale]


@pytest.mark.parametrize("exercise", sorted(EXERCISES.values()), ids=lambda p: p.parent.name)
def test_declared_checks_match_the_registry(exercise: Path) -> None:
    """The names the server reads from checks.py are the ones the checks register, in order."""
    from questlab.grading import api

    checks = (exercise / "checks.py").read_text()
    api.REGISTRY.clear()
    try:
        exec(compile(checks, "checks.py", "exec"), {"__name__": "checks"})
        registered = tuple(c.name for c in api.REGISTRY)
    finally:
        api.REGISTRY.clear()
    assert declared_checks(checks) == registered and registered
