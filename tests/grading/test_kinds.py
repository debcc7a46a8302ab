"""expect_buffers, a check's context and the parameter/buffer diagnoses, run in-process (no sandbox)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from questlab.grading import api
from questlab.grading.core import CheckFailed, Submission
from questlab.grading.diagnoses import diagnose
from questlab.grading.driver import _run_one
from questlab.grading.messages import MESSAGES, localize
from questlab.grading.probes import expect_buffers

KINDS = {"expected_parameters": {"gain": [3]}, "expected_buffers": {"mean": [3], "eps": []}}


class Scaler(nn.Module):
    def __init__(self, gain="parameter", mean="buffer", eps_persistent=False):
        super().__init__()
        if gain == "parameter":
            self.gain = nn.Parameter(torch.ones(3))
        elif gain == "buffer":
            self.register_buffer("gain", torch.ones(3))
        else:
            self.gain = torch.ones(3)
        if mean == "buffer":
            self.register_buffer("mean", torch.zeros(3))
        elif mean == "parameter":
            self.mean = nn.Parameter(torch.zeros(3), requires_grad=False)
        else:
            self.mean = torch.zeros(3)
        self.register_buffer("eps", torch.tensor(1e-5), persistent=eps_persistent)


def sub_with(model: nn.Module) -> Submission:
    return Submission({"model": model})


def failure_of(func, *args, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        func(*args, **kwargs)
    return info.value


def test_expect_buffers_passes_and_names_what_is_wrong() -> None:
    expect_buffers(Scaler(), {"mean": (3,), "eps": ()}, non_persistent=["eps"])
    f = failure_of(expect_buffers, Scaler(mean="plain"), {"mean": (3,), "eps": ()}, non_persistent=["eps"])
    assert f.key == "wrong_buffers" and f.params["missing"] == "`mean`"
    assert f.context["expected_buffers"] == {"mean": [3], "eps": []}
    f = failure_of(
        expect_buffers, Scaler(eps_persistent=True), {"mean": (3,), "eps": ()}, non_persistent=["eps"]
    )
    assert (f.key, f.params["name"]) == ("buffer_should_not_persist", "eps")
    f = failure_of(expect_buffers, Scaler(), {"mean": (3,), "eps": ()})
    assert (f.key, f.params["name"]) == ("buffer_should_persist", "eps")


@pytest.mark.parametrize(
    ("model", "context", "expected"),
    [
        # a plain tensor the check expects as a parameter: wrap it, even without requires_grad
        (Scaler(gain="plain", mean="plain"), KINDS, ("plain_tensor", "diag_plain_tensor", "gain")),
        # only buffers expected: the plain tensor named as a buffer comes first
        (
            Scaler(gain="plain", mean="plain"),
            {"expected_buffers": KINDS["expected_buffers"]},
            ("unregistered_buffer", "diag_unregistered_buffer", "mean"),
        ),
        (Scaler(gain="buffer"), KINDS, ("wrong_kind", "diag_buffer_not_parameter", "gain")),
        (Scaler(mean="parameter"), KINDS, ("wrong_kind", "diag_parameter_not_buffer", "mean")),
    ],
)
def test_kind_diagnoses_follow_the_checks_expectations(model, context, expected) -> None:
    found = diagnose(sub_with(model), CheckFailed("wrong_total", context=context), "parameters")
    assert found is not None
    name, finding = found
    assert (name, finding.key, finding.params["attr"]) == expected


def test_without_expectations_a_plain_tensor_without_grad_is_a_buffer() -> None:
    name, finding = diagnose(sub_with(Scaler(gain="plain")), CheckFailed("wrong_total"), "parameters")
    assert (name, finding.params["attr"]) == ("unregistered_buffer", "gain")


def test_a_checks_context_reaches_the_diagnoses() -> None:
    def failing(_sub):
        raise CheckFailed("output_missing_line", params={"line": "x"})

    def raising(_sub):
        raise ValueError("boom")

    sub = sub_with(Scaler(gain="plain"))
    for func in (failing, raising):
        plain = _run_one(api.Check("c", func, "output"), sub)
        assert plain["diagnosis"] is None
        entry = _run_one(api.Check("c", func, "output", context=KINDS), sub)
        assert entry["diagnosis"]["name"] == "plain_tensor" and entry["diagnosis"]["params"]["attr"] == "gain"


def test_check_decorator_keeps_its_context() -> None:
    api.REGISTRY.clear()
    try:
        api.check("with_context", aspect="state", context=KINDS)(lambda sub: None)
        assert api.REGISTRY[-1].context == KINDS
    finally:
        api.REGISTRY.clear()


def test_leaf_inplace_is_recognised() -> None:
    w = torch.tensor(0.5, requires_grad=True)
    try:
        w -= 1
    except RuntimeError as e:
        error = e
    name, finding = diagnose(Submission({}, exception=error), CheckFailed("wrong_total"), "state")
    assert name == "leaf_inplace"
    assert finding.key in ("diag_leaf_inplace", "diag_leaf_inplace_line")


@pytest.mark.parametrize(
    "key",
    [
        "wrong_buffers",
        "buffer_should_not_persist",
        "buffer_should_persist",
        "diag_buffer_not_parameter",
        "diag_parameter_not_buffer",
        "diag_leaf_inplace",
        "diag_leaf_inplace_line",
    ],
)
def test_new_messages_exist_in_both_locales(key: str) -> None:
    params = {"missing": "-", "extra": "-", "wrong": "-", "name": "eps", "attr": "eps", "line": 3}
    en, ko = localize(key, params, "en"), localize(key, params, "ko")
    assert set(MESSAGES[key]) == {"en", "ko"} and en != ko and "{" not in en.replace('{"', "")
    assert any("\uac00" <= ch <= "\ud7a3" for ch in ko)


def test_empty_parts_of_a_listing_message_are_left_out() -> None:
    """ "Unexpected: -." never shows: a part whose names are all empty is omitted, in both locales."""
    params = {"missing": "`fc1.weight`", "extra": "-"}
    assert localize("state_dict_keys", params, "en") == "state_dict() keys differ. Missing: `fc1.weight`."
    assert (
        localize("state_dict_keys", params, "ko") == "state_dict()의 key가 다릅니다. 빠진 것: `fc1.weight`."
    )
    both = localize("wrong_buffers", {"missing": "-", "extra": "`a`", "wrong": "`b`"}, "en")
    assert both.endswith("asked. Unexpected: `a`. Wrong shape: `b`.")
    for key in ("state_dict_keys", "wrong_parameters", "wrong_buffers"):
        for locale in ("ko", "en"):
            assert "[[" not in localize(key, {"missing": "-", "extra": "-", "wrong": "-"}, locale)
