"""Checks for the MLP exercise: 784 -> 256 -> 128 -> 10 with ReLU in between, 235,146 parameters."""

import torch
from torch import nn

from questlab.grading.api import (
    check,
    expect_hooks_fire,
    expect_layers,
    expect_moves,
    expect_nonlinear,
    expect_output_shape,
    expect_parameters,
    expect_printed,
    expect_printed_pattern,
    expect_state_dict,
    expect_total,
)

LAYERS = {"fc1": 784 * 256 + 256, "fc2": 256 * 128 + 128, "fc3": 128 * 10 + 10}
SHAPES = {"fc1.weight": (256, 784), "fc1.bias": (256,), "fc2.weight": (128, 256), "fc2.bias": (128,),
          "fc3.weight": (10, 128), "fc3.bias": (10,)}


@check("defines_mlp", aspect="structure",
       en="Define `class MLP(nn.Module)` that can be created with `MLP()`.",
       ko="`MLP()`로 만들 수 있는 `class MLP(nn.Module)`을 정의하세요.")
def defines_mlp(sub):
    sub.model("MLP")


@check("layers", aspect="structure")
def layers(sub):
    # Templates on the meta device: compared by class and sizes, never initialised.
    expect_layers(sub.model("MLP"), {"fc1": nn.Linear(784, 256, device="meta"),
                                     "fc2": nn.Linear(256, 128, device="meta"),
                                     "fc3": nn.Linear(128, 10, device="meta")})
    expect_parameters(sub.model("MLP"), SHAPES)


@check("parameter_count", aspect="parameters")
def parameter_count(sub):
    expect_total(sub.model("MLP"), 235_146, layers=LAYERS)


@check("output_shape", aspect="forward")
def output_shape(sub):
    model = sub.model("MLP")
    for batch in (1, 32):
        expect_output_shape(model, torch.randn(batch, 784), (batch, 10))


@check("activations", aspect="forward")
def activations(sub):
    expect_nonlinear(sub.model("MLP"), torch.randn(4, 784), ["fc1", "fc2", "fc3"])


@check("hooks_fire", aspect="hooks")
def hooks_fire(sub):
    expect_hooks_fire(sub.model("MLP"), torch.randn(2, 784), ["fc1", "fc2", "fc3"])


@check("state_dict", aspect="state")
def state_dict(sub):
    model = sub.model("MLP")
    expect_state_dict(model, keys=SHAPES, make=lambda: sub.new_model("MLP"), x=torch.randn(3, 784))
    expect_moves(model)


@check("printed_parameters", aspect="output", uses_output=True)
def printed_parameters(sub):
    for name, shape in SHAPES.items():
        expect_printed(sub, f"{name} {shape}")


@check("printed_total", aspect="output", uses_output=True)
def printed_total(sub):
    expect_printed_pattern(sub, r"total:\s*([0-9_,]+)", expected="235146", example="total: 235146")
