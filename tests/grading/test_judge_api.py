"""The judge's expect_* helpers, on plain observation data (no sandbox run)."""

from __future__ import annotations

import pytest

from questlab.grading.judge import CheckFailed, expect_buffers
from questlab.grading.judge.rules import diagnose
from questlab.grading.messages import localize


def _description(buffers: list[list[object]]) -> dict[str, object]:
    return {
        "class": "M",
        "training": True,
        "tree": [["", "M", ""]],
        "parameters": [],
        "buffers": buffers,
        "plain": [],
        "calls": [],
        "hooks": [],
        "outputs": {},
    }


@pytest.mark.parametrize(
    ("persistent", "key"), [(True, "buffer_should_not_persist"), (False, "buffer_should_persist")]
)
@pytest.mark.parametrize("locale", ["ko", "en"])
def test_buffer_persistence_sentences_name_the_buffer(persistent: bool, key: str, locale: str) -> None:
    desc = _description([["norm.eps", [], persistent]])
    with pytest.raises(CheckFailed) as failed:
        expect_buffers(desc, {"norm.eps": ()}, non_persistent=[] if not persistent else ["norm.eps"])
    assert failed.value.key == key
    sentence = localize(key, failed.value.params, locale)
    assert "{" not in sentence
    assert "`norm.eps`" in sentence and 'register_buffer("eps"' in sentence


def _plain(rows: list[list[str]]) -> dict[str, object]:
    desc = _description([])
    desc["plain"] = rows
    return desc


def test_a_plain_tensor_missing_as_a_parameter_is_told_to_become_one() -> None:
    # The starter of parameters-and-buffers: every tensor plain, none requiring grad.
    desc = _plain([["gain", "tensor"], ["shift", "tensor"], ["mean", "tensor"]])
    failure = CheckFailed(
        "wrong_parameters", params={"missing": "`gain`, `shift`", "extra": "-", "wrong": "-"}
    )
    name, key, params = diagnose(failure, "parameters", [desc], None)
    assert (name, key, params["attr"]) == ("plain_tensor", "diag_plain_tensor", "gain")
    sentence = localize(key, params, "en")
    assert "nn.Parameter" in sentence and "shape" not in sentence and "{" not in sentence


def test_a_plain_tensor_missing_as_a_buffer_is_told_to_be_registered() -> None:
    desc = _plain([["gain", "tensor"], ["mean", "tensor"]])
    failure = CheckFailed("wrong_buffers", params={"missing": "`mean`", "extra": "-", "wrong": "-"})
    name, key, params = diagnose(failure, "state", [desc], None)
    assert (name, key, params["attr"]) == ("unregistered_buffer", "diag_unregistered_buffer", "mean")


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_a_buffer_where_a_parameter_belongs_is_named(locale: str) -> None:
    desc = _description([["norm.gain", [4], True]])
    failure = CheckFailed("wrong_parameters", params={"missing": "`norm.gain`", "extra": "-", "wrong": "-"})
    name, key, params = diagnose(failure, "parameters", [desc], None)
    assert (name, key) == ("wrong_kind", "diag_buffer_not_parameter")
    sentence = localize(key, params, locale)
    assert "`norm.gain`" in sentence and "self.gain = nn.Parameter" in sentence and "{" not in sentence


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_a_parameter_where_a_buffer_belongs_is_named(locale: str) -> None:
    desc = _description([])
    desc["parameters"] = [["running_mean", [4], True]]
    failure = CheckFailed("wrong_buffers", params={"missing": "`running_mean`", "extra": "-", "wrong": "-"})
    name, key, params = diagnose(failure, "state", [desc], None)
    assert (name, key) == ("wrong_kind", "diag_parameter_not_buffer")
    sentence = localize(key, params, locale)
    assert 'register_buffer("running_mean"' in sentence and "{" not in sentence


def test_a_name_missing_everywhere_is_not_a_wrong_kind() -> None:
    desc = _description([["other", [4], True]])
    failure = CheckFailed("wrong_parameters", params={"missing": "`gain`", "extra": "-", "wrong": "-"})
    assert diagnose(failure, "parameters", [desc], None) is None


def test_a_forward_failure_never_calls_a_plain_weight_a_buffer() -> None:
    desc = _plain([["weight", "tensor"]])
    failure = CheckFailed("wrong_output_values", params={"diff": 1.0, "atol": 1e-5})
    assert diagnose(failure, "forward", [desc], None) is None
    learnable = _plain([["weight", "tensor (requires_grad)"]])
    name, _, params = diagnose(failure, "forward", [learnable], None)
    assert (name, params["attr"]) == ("plain_tensor", "weight")
