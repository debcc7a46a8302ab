"""Checks for Block(dim, hidden, activation, inplace): x + fc2(act2(fc1(act1(x)))).

Judged on the server from what probe.py observed: a new Block per activation factory (ReLU,
GELU, SiLU, Tanh, Sigmoid, PReLU, a functools.partial of LeakyReLU, and ReLU and SiLU with
inplace=True), its layers and parameters, its outputs on seeded inputs with seeded parameters,
and, with inplace=True, what a call does to the caller's tensor and to the input's gradient.
Everything is compared with the reference solution's observations on the same seed.
"""

from questlab.grading.judge import (
    CheckFailed,
    check,
    expect_close,
    expect_printed,
    expect_same_outputs,
    fail,
    layers_of,
    parameters_of,
)

ORDER = ("act1", "fc1", "act2", "fc2")
LINES = (
    "ReLU: (4, 8) 552 parameters",
    "GELU: (4, 8) 552 parameters",
    "PReLU: (4, 8) 554 parameters",
    "x unchanged: True",
)


def _call(obs, case):
    dim, hidden = obs.reference("sizes")
    factory = {"LeakyReLU(0.2)": "functools.partial(nn.LeakyReLU, 0.2)"}.get(case.split(",")[0])
    factory = factory or f"nn.{case.split(',')[0]}"
    extra = ", inplace=True" if "inplace" in case else ""
    return f"`Block({dim}, {hidden}, {factory}{extra})`"


def _cases(obs, key="blocks"):
    """(case, learner's entry, reference's entry), failing when a Block could not be made."""
    got, want = obs[key], obs.reference(key)
    for case, ref in want.items():
        entry = got.get(case) or {}
        if "init_raised" in entry:
            _init_failed(_call(obs, case), entry["init_raised"])
        yield case, entry, ref


def _stop(text):
    return str(text).rstrip(".")


def _init_failed(call, error):
    """Fail for a Block that could not be made, saying why when `inplace` was passed to every factory."""
    en = f"{call} raised {_stop(error)}."
    ko = f"{call}에서 {_stop(error)} 오류가 났습니다."
    if "unexpected keyword argument 'inplace'" in str(error):
        en += " Not every activation has `inplace`: pass it only when `inplace` is True, else call `activation()`."
        ko += " 모든 activation에 `inplace`가 있지는 않습니다. `inplace`가 True일 때만 넘기고, 아니면 `activation()`을 부르세요."
    fail(en=en, ko=ko)


def _names(names):
    return ", ".join(f"`{n}`" for n in names) or "-"


@check("activation_modules", aspect="structure")
def activation_modules(obs):
    attrs = obs["attrs"]
    if "init_raised" in attrs:
        _init_failed(_call(obs, attrs["factory"]), attrs["init_raised"])
    relu = _call(obs, "ReLU")
    for name in ("act1", "act2"):
        kind = attrs["ReLU"][name]
        if kind.startswith("class "):
            cls = kind.removeprefix("class ")
            fail(
                en=f"In {relu}, `self.{name}` holds the class `nn.{cls}` itself, not a "
                f"module made by calling it: `self.{name} = activation()`.",
                ko=f"{relu}의 `self.{name}`에 호출해서 만든 module이 아니라 "
                f"`nn.{cls}` class 자체가 들어 있습니다. `self.{name} = activation()`으로 만드세요.",
            )
        if kind == "missing":
            fail(
                en=f"{relu} has no `self.{name}`. Create each activation in `__init__` "
                f"with `self.{name} = activation()`, so that it is registered with the block.",
                ko=f"{relu}에 `self.{name}`이 없습니다. activation은 `__init__`에서 "
                f"`self.{name} = activation()`으로 만들어야 block에 등록됩니다.",
            )
        if not kind.startswith("module "):
            fail(
                en=f"`self.{name}` should be the module made by `activation()`, but it holds {kind}.",
                ko=f"`self.{name}`에는 `activation()`이 만든 module이 있어야 하는데 {kind}이(가) 있습니다.",
            )
    for case, entry, ref in _cases(obs):
        found, want = layers_of(entry), layers_of(ref)
        for name in ORDER:
            if name not in found:
                fail(
                    en=f"{_call(obs, case)} has no submodule `{name}`; it should hold "
                    f"{_names(ORDER)}, each assigned to `self` in `__init__`.",
                    ko=f"{_call(obs, case)}에 `{name}` submodule이 없습니다. {_names(ORDER)}를 "
                    "`__init__`에서 `self`에 대입해야 합니다.",
                )
            if found[name] != want[name]:
                actual = f"{found[name][0]}({found[name][1]})"
                expected = f"{want[name][0]}({want[name][1]})"
                fail(
                    en=f"In {_call(obs, case)}, `{name}` should be {expected} but is {actual}.",
                    ko=f"{_call(obs, case)}의 `{name}`은 {expected}이어야 하는데 {actual}입니다.",
                )


@check("own_activation_per_place", aspect="parameters")
def own_activation_per_place(obs):
    attrs = obs["attrs"]
    if attrs.get("PReLU", {}).get("same_object"):
        fail(
            en="`self.act1` and `self.act2` are one and the same module. With `nn.PReLU` both places then "
            "share one learnable slope. Call `activation()` once for each place.",
            ko="`self.act1`과 `self.act2`가 같은 module 하나입니다. `nn.PReLU`라면 두 자리가 학습되는 "
            "기울기 하나를 나눠 씁니다. 자리마다 `activation()`을 따로 부르세요.",
        )
    for case, entry, ref in _cases(obs):
        got, want = parameters_of(entry), parameters_of(ref)
        if got != want:
            missing = [n for n in want if n not in got]
            extra = [n for n in got if n not in want]
            fail(
                en=f"{_call(obs, case)} should have the parameters {_names(want)}; missing: "
                f"{_names(missing)}, unexpected: {_names(extra)}.",
                ko=f"{_call(obs, case)}에는 {_names(want)} parameter가 있어야 합니다. 빠진 것: "
                f"{_names(missing)}, 더 있는 것: {_names(extra)}.",
            )


@check("outputs", aspect="forward")
def outputs(obs):
    # Same seeded batch, same seeded parameters: every activation's block must give the reference's outputs.
    for case, entry, ref in _cases(obs):
        try:
            expect_same_outputs(entry, ref)
        except CheckFailed as failed:
            if failed.key == "forward_raised_input":
                error = _stop(failed.params["error"])
                fail(
                    en=f"Calling {_call(obs, case)} on a batch raised {error}.",
                    ko=f"{_call(obs, case)}에 batch를 넣자 {error} 오류가 났습니다.",
                )
            if failed.key == "wrong_output_values":
                diff = failed.params["diff"]
                fail(
                    en=f"With seeded inputs and parameters, {_call(obs, case)} computes other values than "
                    f"`x + fc2(act2(fc1(act1(x))))` (largest difference {diff:.3g}).",
                    ko=f"seed로 정한 입력과 parameter에서 {_call(obs, case)}의 출력이 "
                    f"`x + fc2(act2(fc1(act1(x))))`와 다릅니다 (가장 큰 차이 {diff:.3g}).",
                )
            raise


@check("caller_input_unchanged", aspect="state")
def caller_input_unchanged(obs):
    for case, entry, ref in _cases(obs, "caller_input"):
        if "forward_raised" in entry:
            error = _stop(entry["forward_raised"])
            fail(
                en=f"Calling {_call(obs, case)} raised {error}.",
                ko=f"{_call(obs, case)}를 호출하자 {error} 오류가 났습니다.",
            )
        if not entry.get("x_unchanged"):
            fail(
                en=f"Calling {_call(obs, case)} on `x` changed the caller's `x`: an activation worked in place "
                "on the block's input. Only `act2`, which gets `fc1`'s fresh output, may work in place; "
                "`act1` is always `activation()`.",
                ko=f"{_call(obs, case)}를 `x`에 부르자 호출한 쪽의 `x`가 바뀌었습니다. block의 입력에 "
                "activation이 in-place로 적용됐습니다. in-place로 동작해도 되는 것은 `fc1`의 새 출력을 받는 "
                "`act2`뿐이고, `act1`은 언제나 `activation()`입니다.",
            )
        try:
            expect_close(entry.get("output"), ref["output"])
        except CheckFailed:
            fail(
                en=f"With `inplace=True`, {_call(obs, case)} computes other values than "
                "`x + fc2(act2(fc1(act1(x))))` on seeded inputs and parameters.",
                ko=f"`inplace=True`일 때 seed로 정한 입력과 parameter에서 {_call(obs, case)}의 출력이 "
                "`x + fc2(act2(fc1(act1(x))))`와 다릅니다.",
            )


@check("inplace_where_asked", aspect="state")
def inplace_where_asked(obs):
    got, want = obs["act2_in_place"], obs.reference("act2_in_place")
    for case, expected in want.items():
        actual = got.get(case)
        if actual == expected:
            continue
        if actual is None:
            fail(
                en=f"A call of {_call(obs, case)} never passed through both `self.fc1` and `self.act2`.",
                ko=f"{_call(obs, case)}를 호출했을 때 `self.fc1`과 `self.act2`를 모두 지나가지 않았습니다.",
            )
        if expected:
            fail(
                en=f"In {_call(obs, case)}, `act2` does not work in place on `fc1`'s output. With "
                "`inplace=True`, create it as `activation(inplace=True)`.",
                ko=f"{_call(obs, case)}에서 `act2`가 `fc1`의 출력 위에서 in-place로 동작하지 않습니다. "
                "`inplace=True`일 때는 `activation(inplace=True)`로 만드세요.",
            )
        fail(
            en=f"In {_call(obs, case)}, `act2` works in place although `inplace` is False.",
            ko=f"{_call(obs, case)}에서는 `inplace`가 False인데 `act2`가 in-place로 동작합니다.",
        )


@check("input_gradient", aspect="state")
def input_gradient(obs):
    for case, entry, ref in _cases(obs, "input_grad"):
        if "raised" in entry:
            fail(
                en=f"Backpropagating through {_call(obs, case)} from an input with `requires_grad=True` raised "
                f"{_stop(entry['raised'])}.",
                ko=f"`requires_grad=True`인 입력으로 {_call(obs, case)}를 지나 backward하자 "
                f"{_stop(entry['raised'])} 오류가 났습니다.",
            )
        try:
            expect_close(entry.get("grad"), ref["grad"])
        except CheckFailed:
            fail(
                en=f"The gradient that reaches the input through {_call(obs, case)} differs from the one "
                "through `x + fc2(act2(fc1(act1(x))))`.",
                ko=f"{_call(obs, case)}를 지나 입력에 도착한 gradient가 "
                "`x + fc2(act2(fc1(act1(x))))`를 지난 gradient와 다릅니다.",
            )


@check("printed", aspect="output", uses_output=True)
def printed(obs):
    for line in LINES:
        expect_printed(obs, line)
