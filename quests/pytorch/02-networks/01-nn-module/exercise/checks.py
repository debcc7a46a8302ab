"""Checks for the MLP exercise: 784 -> 256 -> 128 -> 10 with ReLU in between, 235,146 parameters.

Judged on the server from what probe.py observed; outputs are compared with the
reference solution's on inputs and parameters drawn from this submission's seed.
"""

from questlab.grading.judge import (
    check,
    expect_hooks_fire,
    expect_layers,
    expect_parameters,
    expect_printed,
    expect_printed_pattern,
    expect_same_outputs,
    expect_total,
)

SHAPES = {"fc1.weight": (256, 784), "fc1.bias": (256,), "fc2.weight": (128, 256), "fc2.bias": (128,),
          "fc3.weight": (10, 128), "fc3.bias": (10,)}


@check("defines_mlp", aspect="structure",
       en="Define `class MLP(nn.Module)` that can be created with `MLP()`.",
       ko="`MLP()`로 만들 수 있는 `class MLP(nn.Module)`을 정의하세요.")
def defines_mlp(obs):
    obs["mlp"]


@check("layers", aspect="structure")
def layers(obs):
    expect_layers(obs["mlp"], {"fc1": "Linear(in_features=784, out_features=256, bias=True)",
                               "fc2": "Linear(in_features=256, out_features=128, bias=True)",
                               "fc3": "Linear(in_features=128, out_features=10, bias=True)"})
    expect_parameters(obs["mlp"], SHAPES)


@check("parameter_count", aspect="parameters")
def parameter_count(obs):
    expect_total(obs["mlp"], 235_146)


@check("forward", aspect="forward")
def forward(obs):
    # Same seeded inputs, same seeded parameters: the outputs must be the reference's.
    expect_same_outputs(obs["mlp"], obs.reference("mlp"))


@check("hooks_fire", aspect="hooks")
def hooks_fire(obs):
    expect_hooks_fire(obs["mlp"], ["fc1", "fc2", "fc3"])


@check("model_object", aspect="structure",
       en="Create the model at the top level: `model = MLP()`.",
       ko="맨 바깥에서 `model = MLP()`로 model을 만드세요.")
def model_object(obs):
    expect_parameters(obs["model"], SHAPES)


@check("printed_parameters", aspect="output", uses_output=True)
def printed_parameters(obs):
    for name, shape in SHAPES.items():
        expect_printed(obs, f"{name} {shape}")


@check("printed_total", aspect="output", uses_output=True)
def printed_total(obs):
    expect_printed_pattern(obs, r"total:\s*([0-9_,]+)", expected="235146", example="total: 235146")
