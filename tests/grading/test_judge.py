"""The judge over plain data: the wire format, malformed observations, checks and mistake matching.

No sandbox here: these feed the server side exactly what a hostile process could report.
"""

from __future__ import annotations

import base64
import struct

import pytest
import torch

from questlab.grading.judge.api import Check, CheckFailed, expect_same_outputs
from questlab.grading.judge.bank import Entry
from questlab.grading.judge.grade import (
    ChecksBroken,
    MistakeEvidence,
    load_checks,
    read_report,
    run_checks,
    syntax_problem,
)
from questlab.grading.judge.results import grade, syntax_results
from questlab.grading.judge.wire import Malformed, ObservedError, Tensor, decode, same
from questlab.grading.sandbox.wire import Unencodable, encode
from tests.grading.conftest import EXERCISE


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.int32, torch.bool])
def test_tensors_round_trip(dtype: torch.dtype) -> None:
    t = (torch.arange(12).reshape(3, 4) % 3).to(dtype)
    back = decode(encode(t))
    assert isinstance(back, Tensor) and back.shape == (3, 4)
    assert back.tolist() == t.tolist() and back.dtype == str(dtype).removeprefix("torch.")


def test_nested_data_round_trips_and_non_finite_floats_survive() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": float("nan"), "size": torch.Size([2, 3])}}
    back = decode(encode(value))
    assert back["a"] == [1, 2.5, "x", None, True] and back["b"]["size"] == [2, 3]
    assert back["b"]["c"] != back["b"]["c"]  # NaN


def _tensor(dtype: str, shape: list[int], raw: bytes) -> dict:
    return {"$tensor": {"dtype": dtype, "shape": shape, "data": base64.b64encode(raw).decode()}}


@pytest.mark.parametrize(
    "bad",
    [
        _tensor("float32", [2], struct.pack("<d", 1.0)),  # one value for two elements
        _tensor("object", [1], b"\0" * 8),  # dtype not allowed
        _tensor("float32", [100_000], b""),  # too many elements
        _tensor("bool", [1], b"\x07"),  # a bool that is not 0 or 1
        {"$tensor": {"dtype": "float32", "shape": [1], "data": "not base64!"}},
        {"$tensor": {"dtype": "float32", "shape": [-1], "data": ""}},
        {"$tensor": {"dtype": "float32", "shape": [1], "data": "", "extra": 1}},
        {"$pickle": "gASVAAAAAAAAAAA="},
        {"$float": "1e309"},
        2**70,
        float("inf"),
        [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]],
        {"$error": {"type": "X", "line": "three"}},
        list(range(30_000)),
    ],
)
def test_malformed_data_is_refused(bad: object) -> None:
    with pytest.raises(Malformed):
        decode(bad)


def test_the_sandbox_encoder_refuses_what_it_cannot_carry() -> None:
    with pytest.raises(Unencodable):
        encode(torch.nn.Linear(2, 2))
    with pytest.raises(Unencodable):
        encode({"$tensor": 1})
    with pytest.raises(Unencodable):
        encode(torch.zeros(30_000))


def test_same_compares_within_tolerance_and_by_type() -> None:
    a = decode(encode(torch.tensor([1.0, 2.0])))
    b = decode(encode(torch.tensor([1.0, 2.0 + 1e-7])))
    c = decode(encode(torch.tensor([1.0, 2.1])))
    assert same(a, b) and not same(a, c) and not same(a, [1.0, 2.0])
    assert not same(True, 1) and same(1, 1.0) and not same("1", 1)


def _checks(*funcs: object) -> tuple[Check, ...]:
    return tuple(f.__questlab_check__ for f in funcs)  # type: ignore[attr-defined]


def test_missing_error_and_malformed_observations_fail_never_pass() -> None:
    from questlab.grading.judge import check

    @check("uses_mlp")
    def uses_mlp(obs):
        expect_same_outputs(obs["mlp"], obs.reference("mlp"))

    @check("crashes_on_odd_data")
    def crashes(obs):
        obs["n"] + 1  # a TypeError on a string

    reference = {
        "mlp": {
            "class": "MLP",
            "training": True,
            "tree": [],
            "parameters": [],
            "buffers": [],
            "plain": [],
            "calls": [],
            "hooks": [],
            "outputs": {"x": Tensor("float32", (1,), (1.0,))},
        },
        "n": 1,
    }
    cases = [
        {},  # nothing observed
        {"mlp": ObservedError("RuntimeError", "boom", 7, None, {}), "n": "one"},
        {"mlp": {"class": "MLP"}, "n": None},  # not a module description
        {"mlp": {**reference["mlp"], "outputs": {"x": "a string"}}, "n": [1]},
        {"mlp": {**reference["mlp"], "outputs": {"x": Tensor("float32", (2,), (1.0, 1.0))}}, "n": {}},
    ]
    for learner in cases:
        outcomes = run_checks(_checks(uses_mlp, crashes), learner, reference, "", "")
        assert [o.passed for o in outcomes] == [False, False], learner
        assert all(isinstance(o.failure, CheckFailed) and o.failure.key for o in outcomes)


def test_a_check_that_raises_on_trusted_data_is_an_author_bug() -> None:
    from questlab.grading.judge import check

    @check("typo")
    def typo(obs):
        obs["n"].nonexistent  # noqa: B018

    with pytest.raises(ChecksBroken):
        run_checks(_checks(typo), {"n": 1}, {"n": 1}, "", "", trusted=True)
    with pytest.raises(ChecksBroken):
        load_checks("raise ValueError('broken checks.py')\n")
    with pytest.raises(ChecksBroken):
        load_checks("x = 1\n")  # declares no check


@pytest.mark.parametrize(
    "raw", [None, "pass", {"probe": 1, "observations": {}}, {"probe": 2, "observations": {"a": {"$x": 1}}}]
)
def test_unusable_reports_have_a_problem_and_no_observations(raw: object) -> None:
    report = read_report(raw)
    assert report.problem and report.observations == {}


def test_mistakes_match_only_on_the_same_evidence() -> None:
    from questlab.grading.judge import check

    @check("value")
    def value(obs):
        if obs["v"] != 2:
            raise CheckFailed("wrong_value", params={"what": "v", "actual": obs["v"], "expected": 2})

    checks = _checks(value)
    mistake = MistakeEvidence.from_outcomes(
        "off-by-one", run_checks(checks, {"v": 1}, {}, "", ""), {"v": 1}, ""
    )
    assert mistake.failing == ("value",) and mistake.evidence == {"v": 1}
    same_mistake = run_checks(checks, {"v": 1}, {}, "", "")
    other = run_checks(checks, {"v": 7}, {}, "", "")
    assert mistake.matches(same_mistake, {"v": 1}, "")
    assert not mistake.matches(other, {"v": 7}, "")
    assert not mistake.matches(run_checks(checks, {"v": 2}, {}, "", ""), {"v": 2}, "")


def test_syntax_errors_are_judged_without_a_run() -> None:
    assert syntax_problem("x = 1\n") is None
    problem = syntax_problem("def f(:\n    pass\n")
    assert problem and problem["line"] == 1 and problem["type"] == "SyntaxError"
    results = syntax_results("print(1", "ko")
    assert results and results["status"] == "error" and "SyntaxError" in results["message"]


class _Result:
    def __init__(self, report: object, status: str = "ok", stdout: str = "") -> None:
        self.report, self.status, self.stdout, self.traceback, self.message = (
            report,
            status,
            stdout,
            None,
            None,
        )


def test_a_forged_report_without_the_right_outputs_fails_every_behaviour_check() -> None:
    """A report claiming the right structure but made-up outputs: structure passes, behaviour fails."""
    from questlab.content.loader import load_exercise

    exercise = load_exercise(EXERCISE, ["ko", "en"])
    out = Tensor("float32", (1, 10), tuple(float(i) for i in range(10)))
    desc = {
        "class": "MLP",
        "training": True,
        "plain": [],
        "buffers": [],
        "calls": [],
        "hooks": ["fc1", "fc2", "fc3"],
        "tree": [
            ["", "MLP", ""],
            ["fc1", "Linear", "in_features=784, out_features=256, bias=True"],
            ["fc2", "Linear", "in_features=256, out_features=128, bias=True"],
            ["fc3", "Linear", "in_features=128, out_features=10, bias=True"],
        ],
        "parameters": [
            ["fc1.weight", [256, 784], True],
            ["fc1.bias", [256], True],
            ["fc2.weight", [128, 256], True],
            ["fc2.bias", [128], True],
            ["fc3.weight", [10, 128], True],
            ["fc3.bias", [10], True],
        ],
        "outputs": {"one": out, "batch": Tensor("float32", (32, 10), (0.0,) * 320)},
    }
    reference = {
        **desc,
        "outputs": {
            "one": Tensor("float32", (1, 10), (0.5,) * 10),
            "batch": Tensor("float32", (32, 10), (0.5,) * 320),
        },
    }
    forged = {
        "probe": 2,
        "learner_error": None,
        "probe_error": None,
        "observations": {"mlp": encode_desc(desc), "model": encode_desc({**desc, "outputs": {}})},
    }
    entry = Entry(1, {"mlp": reference, "model": {**reference, "outputs": {}}}, [])
    printed = "\n".join(f"{n} {tuple(s)}" for n, s, _ in desc["parameters"]) + "\ntotal: 235146\n"
    results = grade(exercise, entry, _Result(forged, stdout=printed), "print('hi')", "en")
    verdicts = {t["name"]: t["status"] for t in results["tests"]}
    assert results["status"] == "fail" and verdicts["forward"] == "fail"
    assert verdicts["layers"] == "pass"  # structure claims alone are cheap, and that is all they get


def encode_desc(desc: dict) -> dict:
    """Encode a description holding judge-side Tensors the way the sandbox would."""

    def conv(v: object) -> object:
        if isinstance(v, Tensor):
            return encode(torch.tensor(v.tolist(), dtype=torch.float32))
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return conv(desc)  # type: ignore[return-value]


def test_printed_evidence_matches_a_learner_who_prints_more() -> None:
    from questlab.grading.judge import check, expect_printed

    @check("printed", uses_output=True)
    def printed(obs):
        expect_printed(obs, "fc1.weight (256, 784)")

    checks = _checks(printed)
    reference = "fc1.weight (256, 784)\ntotal: 235146\n"
    wrong = "fc1.weight (784, 256)\ntotal: 235146\n"
    mistake = MistakeEvidence.from_outcomes(
        "reversed", run_checks(checks, {}, {}, wrong, ""), {}, wrong, reference
    )
    chatty = "hello\n" + wrong + "done\n"
    assert mistake.matches(run_checks(checks, {}, {}, chatty, ""), {}, chatty)
    other = "fc1.weight (1, 1)\n"
    assert not mistake.matches(run_checks(checks, {}, {}, other, ""), {}, other)


def test_errors_match_wherever_in_the_program_they_arose() -> None:
    a = ObservedError("Unobservable", "", None, "init_raised", {"error": "AttributeError: x (line 9)"})
    b = ObservedError("Unobservable", "", None, "init_raised", {"error": "AttributeError: x (line 14)"})
    c = ObservedError("Unobservable", "", None, "init_raised", {"error": "TypeError: y (line 9)"})
    assert same(a, b) and not same(a, c) and not same(a, None)
