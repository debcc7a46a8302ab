"""Checks for FeatureScaler: gain/shift parameters, mean/std persistent buffers, eps a non-persistent one."""

import torch
from torch import nn

from questlab.grading.api import (
    check,
    expect_buffers,
    expect_moves,
    expect_output_close,
    expect_parameters,
    expect_printed,
    expect_state_dict,
    fail,
    forward,
)

N = 4
PARAMETERS = {"gain": (N,), "shift": (N,)}
BUFFERS = {"mean": (N,), "std": (N,), "eps": ()}
#: What every check expects, so the diagnoses tell a parameter from a buffer in any check.
KINDS = {"expected_parameters": {k: list(v) for k, v in PARAMETERS.items()},
         "expected_buffers": {k: list(v) for k, v in BUFFERS.items()}}


def scaler(sub):
    return sub.new_model("FeatureScaler", N)


def _close(actual, expected):
    return torch.allclose(actual.detach().double(), torch.as_tensor(expected).double(), atol=1e-8)


@check("defines_feature_scaler", aspect="structure",
       en="Define `class FeatureScaler(nn.Module)` that can be created with `FeatureScaler(4)`.",
       ko="`FeatureScaler(4)`로 만들 수 있는 `class FeatureScaler(nn.Module)`을 정의하세요.")
def defines_feature_scaler(sub):
    scaler(sub)


@check("parameters", aspect="parameters", context=KINDS)
def parameters(sub):
    model = scaler(sub)
    expect_parameters(model, PARAMETERS)
    params = dict(model.named_parameters())
    if not all(p.requires_grad for p in params.values()):
        fail(en="A freshly created FeatureScaler should have `gain` and `shift` trainable "
                "(requires_grad=True). Freeze `shift` on `scaler` after creating it, not in `__init__`.",
             ko="새로 만든 FeatureScaler에서는 `gain`과 `shift`가 모두 학습 가능(requires_grad=True)해야 "
                "합니다. `shift`는 `__init__`이 아니라 `scaler`를 만든 뒤에 얼리세요.")
    if not _close(params["gain"], torch.ones(N)) or not _close(params["shift"], torch.zeros(N)):
        fail(en="`gain` should start as ones and `shift` as zeros: "
                "`nn.Parameter(torch.ones(num_features))`, `nn.Parameter(torch.zeros(num_features))`.",
             ko="`gain`은 1, `shift`는 0으로 시작해야 합니다: "
                "`nn.Parameter(torch.ones(num_features))`, `nn.Parameter(torch.zeros(num_features))`.")


@check("buffers", aspect="state", context={"expected_buffers": KINDS["expected_buffers"]})
def buffers(sub):
    model = scaler(sub)
    expect_buffers(model, BUFFERS, non_persistent=["eps"])
    values = dict(model.named_buffers())
    if not (_close(values["mean"], torch.zeros(N)) and _close(values["std"], torch.ones(N))
            and abs(float(values["eps"]) - 1e-5) < 1e-9):
        fail(en="Keep the starting values: `mean` zeros, `std` ones and `eps` `1e-5`.",
             ko="시작 값은 그대로 두세요: `mean`은 0, `std`는 1, `eps`는 `1e-5`입니다.")


@check("state_dict", aspect="state", context=KINDS)
def state_dict(sub):
    model = scaler(sub)
    with torch.no_grad():  # non-trivial values, so a load that drops a tensor shows in the output
        for i, t in enumerate(list(model.parameters()) + list(model.buffers())):
            if t.dim():
                t.copy_(torch.linspace(0.5, 1.5 + i, t.numel()))
    expect_state_dict(model, keys=["gain", "shift", "mean", "std"], make=lambda: scaler(sub),
                      x=torch.randn(6, N), serialize=True)
    expect_moves(model)


@check("forward", aspect="forward", context=KINDS)
def forward_values(sub):
    model = scaler(sub)
    gain, shift = torch.tensor([1.0, 2.0, 0.5, -1.0]), torch.tensor([0.0, 1.0, -2.0, 3.0])
    mean, std = torch.tensor([0.5, -1.0, 2.0, 0.0]), torch.tensor([1.0, 2.0, 0.5, 4.0])
    with torch.no_grad():
        for name, value in (("gain", gain), ("shift", shift), ("mean", mean), ("std", std)):
            getattr(model, name).copy_(value)
    x = torch.randn(5, N)
    expect_output_close(forward(model, x), (x - mean) / (std + 1e-5) * gain + shift, atol=1e-4)


@check("count_trainable", aspect="output",
       en="Define `count_trainable(module)` that returns the number of elements of the parameters "
          "with requires_grad switched on.",
       ko="requires_grad가 켜진 parameter의 원소 수를 돌려주는 `count_trainable(module)`을 정의하세요.")
def count_trainable(sub):
    func = sub.ns.get("count_trainable")
    if not callable(func):
        fail()
    layer = nn.Linear(3, 2)  # 6 weights + 2 biases
    for frozen, want in ((None, 8), ("weight", 2), ("bias", 0)):
        if frozen:
            getattr(layer, frozen).requires_grad_(False)
        got = func(layer)
        if got != want:
            state = f"with `{frozen}` frozen" if frozen else "with nothing frozen"
            state_ko = f"`{frozen}`을 얼렸을 때" if frozen else "아무것도 얼리지 않았을 때"
            if frozen == "bias":
                state, state_ko = "with both frozen", "둘 다 얼렸을 때"
            fail(en=f"`count_trainable(nn.Linear(3, 2))` {state} returned {got!r}; it should be {want}. "
                    "Add up `p.numel()` only for the parameters whose `p.requires_grad` is True.",
                 ko=f"`count_trainable(nn.Linear(3, 2))`가 {state_ko} {got!r}을 돌려줬습니다. {want}이어야 "
                    "합니다. `p.requires_grad`가 True인 parameter의 `p.numel()`만 더하세요.")


@check("shift_frozen", aspect="parameters", context=KINDS)
def shift_frozen(sub):
    model = sub.instance("scaler", cls="FeatureScaler")
    params = dict(model.named_parameters())
    if "shift" not in params or "gain" not in params:
        expect_parameters(model, PARAMETERS)
    if params["shift"].requires_grad:
        fail(en="`scaler.shift` is still trainable. Freeze it after printing the first count: "
                "`scaler.shift.requires_grad_(False)`.",
             ko="`scaler.shift`가 아직 학습 가능합니다. 첫 번째 개수를 출력한 뒤 "
                "`scaler.shift.requires_grad_(False)`로 얼리세요.")
    if not params["gain"].requires_grad:
        fail(en="`scaler.gain` is frozen too; freeze only `shift`.",
             ko="`scaler.gain`까지 얼어 있습니다. `shift`만 얼리세요.")


@check("printed_names", aspect="output", uses_output=True, context=KINDS)
def printed_names(sub):
    for line in ("parameters: ['gain', 'shift']", "buffers: ['mean', 'std', 'eps']",
                 "state_dict: ['gain', 'shift', 'mean', 'std']"):
        expect_printed(sub, line)


@check("printed_trainable", aspect="output", uses_output=True, context=KINDS)
def printed_trainable(sub):
    expect_printed(sub, "trainable: 8")
    expect_printed(sub, "trainable after freezing shift: 4")
