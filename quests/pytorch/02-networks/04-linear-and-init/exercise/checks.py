"""Checks for build_model (a new nn.Linear per layer) and init_weights (by type, through Module.apply).

Judged on the server from what probe.py observed. build_model is called with sizes drawn from the
submission's seed and compared with the reference's layers, parameter count and outputs.
init_weights is applied to the probe's own model after its parameters were set to seeded values:
Linear weights are judged by their statistics against the reference's (He normal, std
sqrt(2 / fan_in)), biases and LayerNorm exactly, the nn.Embedding must keep its seeded values.
"""

import math
import re

from questlab.grading.judge import (
    CheckFailed,
    check,
    expect_close,
    expect_printed_pattern,
    expect_same_outputs,
    expect_total,
    fail,
    layers_of,
)

#: The probe fills every parameter from U(-1, 1) before apply: a weight left alone has this std.
UNTOUCHED_STD = 1 / math.sqrt(3)


def _call(sizes):
    in_f, hidden, out_f, depth = sizes
    return f"`build_model({in_f}, {hidden}, {out_f}, depth={depth})`"


def _layers(desc):
    rows = layers_of(desc)
    return [(name, cls, extra) for name, (cls, extra) in rows.items() if name and "." not in name]


def _total(desc):
    return sum(math.prod(shape) for _, shape, _ in desc["parameters"])


def _short(cls, extra):
    # Linear(7, 6) and LayerNorm(6) instead of their full extra_repr.
    if cls == "Linear" and (m := re.match(r"in_features=(\d+), out_features=(\d+), bias=(\w+)", extra)):
        return f"Linear({m[1]}, {m[2]}{'' if m[3] == 'True' else ', bias=False'})"
    if cls == "LayerNorm" and (m := re.match(r"\((\d+),\)", extra)):
        return f"LayerNorm({m[1]})"
    return f"{cls}({extra})" if extra else cls


def _show(layers):
    return " → ".join(_short(cls, extra) for _, cls, extra in layers) or "-"


def _built(obs):
    """The learner's and the reference's build_model cases, failing when a call went wrong."""
    got, want = obs["build"], obs.reference("build")
    for case, ref in zip(got, want, strict=True):
        call = _call(ref["sizes"])
        if case["raised"] is not None:
            fail(en=f"{call} raised {case['raised']}.", ko=f"{call}에서 {case['raised']} 오류가 났습니다.")
        if case["type"] != "Sequential" or case["desc"] is None:
            fail(
                en=f"{call} returned {case['type']}; return the layers as one `nn.Sequential(*layers)`.",
                ko=f"{call}가 {case['type']}을(를) 돌려줬습니다. layer들을 `nn.Sequential(*layers)` 하나로 돌려주세요.",
            )
    return list(zip(got, want, strict=True))


@check("build_layers", aspect="structure")
def build_layers(obs):
    for case, ref in _built(obs):
        got, want = _layers(case["desc"]), _layers(ref["desc"])
        if got != want:
            call = _call(ref["sizes"])
            fail(
                en=f"{call} should hold {_show(want)}, but it holds {_show(got)}.",
                ko=f"{call}에는 {_show(want)}가 있어야 하는데 {_show(got)}가 있습니다.",
            )


@check("distinct_layers", aspect="parameters")
def distinct_layers(obs):
    for case, ref in _built(obs):
        if case["shared"]:
            call = _call(ref["sizes"])
            pairs = ", ".join(f"`{a}` = `{b}`" for a, b in case["shared"])
            fail(
                en=f"In {call} several positions hold the very same layer object ({pairs}), so they share "
                "one weight. Every hidden block needs an `nn.Linear` of its own.",
                ko=f"{call}에서 여러 자리가 같은 layer 객체를 가리킵니다 ({pairs}). 그래서 weight 하나를 "
                "나눠 씁니다. hidden block마다 자기 `nn.Linear`가 있어야 합니다.",
            )
        try:
            expect_total(case["desc"], _total(ref["desc"]))
        except CheckFailed:
            got, want = _total(case["desc"]), _total(ref["desc"])
            fail(
                en=f"{_call(ref['sizes'])} holds {got:,} parameters; it should hold {want:,}.",
                ko=f"{_call(ref['sizes'])}의 parameter가 {got:,}개입니다. {want:,}개여야 합니다.",
            )


@check("build_outputs", aspect="forward")
def build_outputs(obs):
    # Same seeded batch, same seeded parameters: the outputs must be the reference's.
    for case, ref in _built(obs):
        try:
            expect_same_outputs(case["desc"], ref["desc"])
        except CheckFailed as failed:
            call, p = _call(ref["sizes"]), failed.params
            if failed.key == "wrong_output_shape":
                fail(
                    en=f"On a batch of shape (4, {ref['sizes'][0]}) the model from {call} gives an output of "
                    f"shape {p['actual']}; it should be {p['expected']}.",
                    ko=f"{call}로 만든 model에 shape (4, {ref['sizes'][0]})인 batch를 넣으면 출력 shape이 "
                    f"{p['actual']}입니다. {p['expected']}이어야 합니다.",
                )
            if failed.key == "wrong_output_values":
                fail(
                    en=f"With the same seeded batch and parameters, the model from {call} computes other "
                    f"outputs than the reference (largest difference {p['diff']:.3g}).",
                    ko=f"같은 seed의 batch와 parameter로 {call}의 model이 reference와 다른 출력을 냅니다 "
                    f"(가장 큰 차이 {p['diff']:.3g}).",
                )
            raise


def _init(obs, *names):
    """The init observation, failing when `init_weights` replaced one of these parameters."""
    data = obs["init"]
    replaced = [n for n in data["replaced"] if n in names]
    if replaced:
        shown = ", ".join(f"`{n}`" for n in replaced)
        fail(
            en=f"`init_weights` put new objects in place of {shown}. Fill the existing parameters in place, "
            "e.g. `nn.init.zeros_(m.bias)`: an optimizer made earlier would keep training the old ones.",
            ko=f"`init_weights`가 {shown} 자리에 새 객체를 넣었습니다. 이미 있는 parameter를 "
            "`nn.init.zeros_(m.bias)`처럼 제자리에서 채우세요. 먼저 만든 optimizer는 옛 parameter를 "
            "계속 학습시킵니다.",
        )
    return data


def _params(ref, kind, *attrs):
    return [f"{name}.{attr}" for name in ref[kind] for attr in attrs]


def _g(x):
    return f"{x:.3g}"


@check("linear_weights", aspect="parameters")
def linear_weights(obs):
    ref = obs.reference("init")
    data = obs["init"]
    for name, want in ref["linear"].items():
        got = data["linear"].get(name)
        layer = f"`{name}` (nn.Linear({want['in']}, {want['out']}))"
        if got is None or got["shape"] != want["shape"]:
            shape = None if got is None else tuple(got["shape"] or ())
            fail(
                en=f"After `model.apply(init_weights)` the weight of {layer} has shape {shape}; it should "
                f"keep its shape {tuple(want['shape'])}, which is (out_features, in_features).",
                ko=f"`model.apply(init_weights)` 뒤에 {layer}의 weight shape이 {shape}입니다. "
                f"shape은 (out_features, in_features)인 {tuple(want['shape'])} 그대로여야 합니다.",
            )
        _init(obs, f"{name}.weight")
        std, target = got.get("std"), want["std"]
        if not std:
            fail(
                en=f"The weight of {layer} is all zeros; it should be drawn from He normal.",
                ko=f"{layer}의 weight가 모두 0입니다. He normal에서 뽑아야 합니다.",
            )
        if abs(std / target - 1) > 0.15:
            he, fan_out = math.sqrt(2 / want["in"]), math.sqrt(2 / want["out"])
            why = {"en": "", "ko": ""}
            if abs(std - UNTOUCHED_STD) < 0.05 * UNTOUCHED_STD:
                why = {
                    "en": " It still holds the values it had before `apply`: `init_weights` did not change it.",
                    "ko": " `apply` 전에 있던 값이 그대로입니다. `init_weights`가 바꾸지 않았습니다.",
                }
            elif abs(std / fan_out - 1) < 0.15:
                why = {
                    "en": f" That is sqrt(2 / {want['out']}), with out_features in place of fan_in.",
                    "ko": f" 지금 값은 fan_in 자리에 out_features를 넣은 sqrt(2 / {want['out']})입니다.",
                }
            fail(
                en=f"The weight of {layer} has standard deviation {_g(std)}; He normal init gives "
                f"sqrt(2 / fan_in) = sqrt(2 / {want['in']}) = {_g(he)}.{why['en']}",
                ko=f"{layer}의 weight 표준편차가 {_g(std)}입니다. He normal 초기화라면 "
                f"sqrt(2 / fan_in) = sqrt(2 / {want['in']}) = {_g(he)}여야 합니다.{why['ko']}",
            )
        if abs(got["mean"]) > 0.15 * target:
            fail(
                en=f"The weight of {layer} has mean {_g(got['mean'])}; it should be drawn around 0.",
                ko=f"{layer}의 weight 평균이 {_g(got['mean'])}입니다. 0을 중심으로 뽑아야 합니다.",
            )
        if got["kurtosis"] is None or abs(got["kurtosis"] - want["kurtosis"]) > 0.7:
            fail(
                en=f"The weight of {layer} has the right spread but does not look normally distributed "
                "(a uniform draw, e.g. `kaiming_uniform_`, has no tails). Use `nn.init.kaiming_normal_`.",
                ko=f"{layer}의 weight는 퍼진 정도는 맞지만 정규분포로 보이지 않습니다 (`kaiming_uniform_` "
                "같은 균등분포에는 꼬리가 없습니다). `nn.init.kaiming_normal_`을 쓰세요.",
            )


@check("linear_biases", aspect="parameters")
def linear_biases(obs):
    ref = obs.reference("init")
    data = _init(obs, *_params(ref, "linear", "bias"))
    for name, want in ref["linear"].items():
        got = data["linear"].get(name) or {}
        bias = got.get("bias")
        try:
            expect_close(bias, want["bias"], what=f"`{name}.bias`", atol=0.0, rtol=0.0)
        except CheckFailed:
            fail(
                en=f"After `model.apply(init_weights)` the bias of the nn.Linear `{name}` is not all zeros. "
                "Set it with `nn.init.zeros_(m.bias)`.",
                ko=f"`model.apply(init_weights)` 뒤에도 nn.Linear `{name}`의 bias가 모두 0은 아닙니다. "
                "`nn.init.zeros_(m.bias)`로 채우세요.",
            )


@check("layernorm", aspect="parameters")
def layernorm(obs):
    ref = obs.reference("init")
    data = _init(obs, *_params(ref, "layernorm", "weight", "bias"))
    for name, want in ref["layernorm"].items():
        got = data["layernorm"].get(name) or {}
        try:
            expect_close(got.get("weight"), want["weight"], what=f"`{name}.weight`", atol=0.0, rtol=0.0)
            expect_close(got.get("bias"), want["bias"], what=f"`{name}.bias`", atol=0.0, rtol=0.0)
        except CheckFailed:
            fail(
                en=f"After `model.apply(init_weights)` the nn.LayerNorm `{name}` should have weight 1 and "
                "bias 0 everywhere. Add a branch for `isinstance(m, nn.LayerNorm)` with "
                "`nn.init.ones_(m.weight)` and `nn.init.zeros_(m.bias)`.",
                ko=f"`model.apply(init_weights)` 뒤에 nn.LayerNorm `{name}`의 weight는 모두 1, bias는 모두 "
                "0이어야 합니다. `isinstance(m, nn.LayerNorm)` 분기에서 `nn.init.ones_(m.weight)`와 "
                "`nn.init.zeros_(m.bias)`를 부르세요.",
            )


@check("other_layers_untouched", aspect="parameters")
def other_layers_untouched(obs):
    ref = obs.reference("init")
    data = _init(obs, *_params(ref, "embedding", "weight"))
    for name, want in ref["embedding"].items():
        try:
            expect_close(data["embedding"].get(name), want, what=f"`{name}.weight`", atol=0.0, rtol=0.0)
        except CheckFailed:
            fail(
                en=f"`init_weights` changed the nn.Embedding `{name}`, which it should leave as it was. "
                'Choose layers by type, `isinstance(m, nn.Linear)`, not by `hasattr(m, "weight")`.',
                ko=f"`init_weights`가 그대로 둬야 할 nn.Embedding `{name}`을 바꿨습니다. "
                '`hasattr(m, "weight")`가 아니라 `isinstance(m, nn.Linear)`처럼 type으로 고르세요.',
            )


@check("model_initialized", aspect="state")
def model_initialized(obs):
    biases = obs["model_biases"]
    if biases is None:
        fail(
            en="There is no `model` at the top level. Create it: `model = build_model(16, 64, 4, depth=2)`.",
            ko="맨 바깥에 `model`이 없습니다. `model = build_model(16, 64, 4, depth=2)`로 만드세요.",
        )
    left = [name for name, zero in biases.items() if not zero]
    if left:
        names = ", ".join(f"`model[{n}]`" for n in left)
        many = len(left) > 1
        fail(
            en=f"In your `model`, the {'biases' if many else 'bias'} of {names} still "
            f"{'hold their' if many else 'holds its'} default, non-zero values: `init_weights` never reached "
            f"{'those layers' if many else 'that layer'}. `Module.apply` is what calls a function on every "
            "submodule.",
            ko=f"`model`에서 {names}의 bias가 아직 0이 아닌 기본값입니다. `init_weights`가 그 layer에 "
            "닿지 않았습니다. 모든 submodule에 함수를 불러 주는 것은 `Module.apply`입니다.",
        )
    for name, layer in obs["model_weights"].items():
        target = math.sqrt(2 / layer["in"])
        if abs(layer["std"] / target - 1) > 0.2:
            fail(
                en=f"The weight of `model[{name}]` has standard deviation {_g(layer['std'])}; after He normal "
                f"init it should be about sqrt(2 / {layer['in']}) = {_g(target)}.",
                ko=f"`model[{name}]`의 weight 표준편차가 {_g(layer['std'])}입니다. He normal 초기화 뒤라면 "
                f"sqrt(2 / {layer['in']}) = {_g(target)} 정도여야 합니다.",
            )


@check("printed_total", aspect="output", uses_output=True)
def printed_total(obs):
    expect_printed_pattern(obs, r"total:\s*([0-9_,]+)", expected="9796", example="total: 9796")
