"""Checks for MyLayerNorm: weight and bias parameters, extra_repr, nn.LayerNorm's outputs, a clear shape error.

Judged on the server from what probe.py observed. The width n is drawn from the submission's
seed, and every output is compared with the reference solution's (which equals nn.LayerNorm)
on seeded inputs and seeded weight and bias.
"""

import re

from questlab.grading.judge import (
    CheckFailed,
    check,
    expect_close,
    expect_parameters,
    expect_printed,
    expect_same_outputs,
    expect_tensor,
    fail,
    module,
    parameters_of,
)

FORMULA_EN = (
    "Normalize each sample over its last dimension with the biased variance, "
    "`(x - mean) / sqrt(var + eps)`, then multiply by `weight` and add `bias`"
)
FORMULA_KO = (
    "sample마다 마지막 차원으로, biased 분산을 써서 `(x - mean) / sqrt(var + eps)`를 계산한 뒤 "
    "`weight`를 곱하고 `bias`를 더하세요"
)


def _width(obs):
    return obs.reference("wrong_shape")["n"]


def _compare(obs, name, call, en="", ko=""):
    """Fail unless the outputs observed as `name` equal the reference's, naming the input's shape;
    `en`/`ko` say what to do (the formula when not given)."""
    got, want = obs[name], obs.reference(name)
    try:
        expect_same_outputs(got["module"], want["module"])
    except CheckFailed as failed:
        if failed.key != "wrong_output_values":
            raise
        ours, theirs = module(got["module"])["outputs"], module(want["module"])["outputs"]
        for key, expected in theirs.items():
            actual = expect_tensor(ours.get(key), f"the output for `{key}`")
            if not actual.close(expected):
                shape, diff = tuple(expected.shape), actual.max_diff(expected)
                fail(
                    en=f"With test values in `weight` and `bias`, {call} on an input of shape {shape} "
                    f"does not give nn.LayerNorm's output (largest difference {diff:.3g}). {en or FORMULA_EN + '.'}",
                    ko=f"`weight`와 `bias`에 시험 값을 넣고 shape이 {shape}인 입력을 주면 {call}의 출력이 "
                    f"nn.LayerNorm과 다릅니다 (가장 큰 차이 {diff:.3g}). {ko or FORMULA_KO + '.'}",
                )
        raise


def _outputs_match(obs, name):
    """Whether the outputs observed as `name` equal the reference's (without failing)."""
    try:
        _compare(obs, name, "")
    except CheckFailed:
        return False
    return True


@check(
    "defines_layer_norm",
    aspect="structure",
    en="Define `class MyLayerNorm(nn.Module)` that can be created with `MyLayerNorm(8)`.",
    ko="`MyLayerNorm(8)`로 만들 수 있는 `class MyLayerNorm(nn.Module)`을 정의하세요.",
)
def defines_layer_norm(obs):
    obs["fresh"]


@check("parameters", aspect="parameters")
def parameters(obs):
    n = _width(obs)
    desc = obs["fresh"]
    expect_parameters(desc, {"weight": (n,), "bias": (n,)})
    if list(parameters_of(desc)) != ["weight", "bias"]:
        fail(
            en="Register `weight` first, then `bias` (as nn.LayerNorm does): parameters are listed, "
            "and filled with test values, in the order they were registered.",
            ko="`weight`를 먼저, 그다음 `bias`를 등록하세요 (nn.LayerNorm과 같은 순서). parameter는 "
            "등록한 순서대로 나열되고, 시험 값도 그 순서로 채워집니다.",
        )
    if not all(trainable for _, _, trainable in module(desc)["parameters"]):
        fail(
            en="`weight` and `bias` must be trainable: leave `requires_grad` on.",
            ko="`weight`와 `bias`는 학습되어야 합니다. `requires_grad`를 끄지 마세요.",
        )
    got, want = obs["initial"], obs.reference("initial")
    for name in ("weight", "bias"):
        if not expect_tensor(got[name], f"`{name}`").close(want[name], 1e-8, 0):
            fail(
                en=f"A new MyLayerNorm({n}) should start with `weight` all ones and `bias` all zeros, "
                "as nn.LayerNorm does, so that it begins as a plain normalization.",
                ko=f"새 MyLayerNorm({n})은 nn.LayerNorm처럼 `weight`는 모두 1, `bias`는 모두 0으로 "
                "시작해야 합니다. 그래야 처음에는 순수한 정규화로 동작합니다.",
            )


@check("extra_repr", aspect="structure")
def extra_repr(obs):
    n = _width(obs)
    got, want = obs["printed_as"], obs.reference("printed_as")
    for key, args in (("default", f"{n}"), ("eps", f"{n}, eps=0.5")):
        if got[key] != want[key]:
            fail(
                en=f"`print(MyLayerNorm({args}))` shows `{got[key]}`; it should show `{want[key]}`. "
                "Define `extra_repr(self)` to return the text between the parentheses, made from the "
                "values the module was created with.",
                ko=f"`print(MyLayerNorm({args}))`가 `{got[key]}`를 보여 줍니다. `{want[key]}`이어야 합니다. "
                "괄호 안에 들어갈 문자열을 돌려주는 `extra_repr(self)`를 정의하고, module을 만들 때 받은 "
                "값으로 만드세요.",
            )


@check("same_as_layer_norm", aspect="forward")
def same_as_layer_norm(obs):
    # Same seeded inputs, same seeded weight and bias: the outputs must be the reference's.
    _compare(obs, "forward", f"`MyLayerNorm({_width(obs)})`")


@check("uses_eps", aspect="forward")
def uses_eps(obs):
    en = ko = ""
    if _outputs_match(obs, "forward"):  # the default eps works: what differs here is eps itself
        en = (
            "With the default eps the outputs match, so look at eps: use the value the module was "
            "created with, inside the square root: `sqrt(var + self.eps)`."
        )
        ko = (
            "기본 eps에서는 출력이 맞으니 eps를 보세요. module을 만들 때 받은 값을 제곱근 안에서 "
            "써야 합니다: `sqrt(var + self.eps)`."
        )
    _compare(obs, "custom_eps", f"`MyLayerNorm({_width(obs)}, eps=0.5)`", en=en, ko=ko)


@check("small_variance", aspect="forward")
def small_variance(obs):
    n = _width(obs)
    got, want = obs["small_variance"], obs.reference("small_variance")
    actual = expect_tensor(got, f"`MyLayerNorm({n})(x)`")
    if actual.shape == want.shape and not actual.close(want, 1e-4):
        diff = actual.max_diff(want)
        # When ordinary inputs already match, what is left to get wrong on these rows is eps.
        why_en, why_ko = f" {FORMULA_EN}.", f" {FORMULA_KO}."
        if _outputs_match(obs, "forward"):
            why_en = " On such rows it matters where eps goes: inside the square root, `sqrt(var + eps)`."
            why_ko = " 이런 행에서는 eps의 위치가 결과를 바꿉니다. eps는 제곱근 안에 들어갑니다: `sqrt(var + eps)`."
        fail(
            en=f"On rows whose values differ by only about 0.001 (a variance close to eps), "
            f"`MyLayerNorm({n})` does not give nn.LayerNorm's output (largest difference {diff:.3g}).{why_en}",
            ko=f"값이 0.001 정도밖에 차이 나지 않는 행(분산이 eps에 가까운 행)에서 `MyLayerNorm({n})`의 "
            f"출력이 nn.LayerNorm과 다릅니다 (가장 큰 차이 {diff:.3g}).{why_ko}",
        )
    expect_close(actual, want, what=f"`MyLayerNorm({n})(x)`", atol=1e-4)


def _shape_text(message, shape):
    forms = (str(tuple(shape)), str(list(shape)), f"torch.Size({list(shape)})")
    return next((form for form in forms if form in message), None)


@check("shape_check", aspect="any")
def shape_check(obs):
    n = _width(obs)
    for case in obs["wrong_shape"]["cases"]:
        shape = tuple(case["shape"])
        call = f"`MyLayerNorm({n})` on an input of shape {shape}"
        call_ko = f"`MyLayerNorm({n})`에 shape이 {shape}인 입력을 넣으면"
        if case["raised"] is None:
            out = tuple(case["out"] or ())
            why_en = (
                " A last dimension of 1 broadcasts against `weight` without any error."
                if shape[-1] == 1
                else ""
            )
            why_ko = (
                " 마지막 차원이 1이면 `weight`와 broadcasting되어 에러 없이 지나갑니다."
                if shape[-1] == 1
                else ""
            )
            fail(
                en=f"{call} returned an output of shape {out} instead of raising.{why_en} At the start of "
                "`forward`, check `x.shape[-1] != self.normalized_shape` and raise a `ValueError`.",
                ko=f"{call_ko} 에러 없이 shape {out}의 출력이 나옵니다.{why_ko} `forward` 첫머리에서 "
                "`x.shape[-1] != self.normalized_shape`인지 검사해 `ValueError`를 내세요.",
            )
        if case["raised"] != "ValueError":
            fail(
                en=f"{call} raised {case['raised']}. Raise a `ValueError` yourself, before any "
                "computation, with a message that says what was expected.",
                ko=f"{call_ko} {case['raised']}가 납니다. 계산을 시작하기 전에 직접 `ValueError`를 "
                "내고, 무엇을 기대했는지 메시지에 적으세요.",
            )
        message = case["message"] or ""
        shown = _shape_text(message, shape)
        rest = message.replace(shown, " ") if shown else message
        if shown is None or not re.search(rf"(?<![\d.]){n}(?![\d.])", rest):
            example = f"expected the last dimension to be {n}, got input of shape {shape}"
            fail(
                en=f"{call} raised `ValueError: {message}`. Name both the expected last dimension, {n}, "
                f"and the shape received, {shape}: for example `{example}`.",
                ko=f"{call_ko} `ValueError: {message}`가 납니다. 기대한 마지막 차원 {n}과 받은 shape "
                f"{shape}을 모두 적으세요. 예: `{example}`.",
            )


@check("printed", aspect="output", uses_output=True)
def printed(obs):
    expect_printed(obs, "MyLayerNorm(8, eps=1e-05)")
    expect_printed(obs, "same as nn.LayerNorm: True")
