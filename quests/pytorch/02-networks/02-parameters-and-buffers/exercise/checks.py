"""Checks for FeatureScaler: gain/shift parameters, mean/std persistent buffers, eps a non-persistent one.

Judged on the server from what probe.py observed. Values that depend on the submission's seed
(the forward pass, the round trip, count_trainable) are compared with the reference solution's.
"""

from questlab.grading.judge import (
    check,
    expect_buffers,
    expect_close,
    expect_parameters,
    expect_printed,
    expect_tensor,
    fail,
    module,
)

PARAMETERS = {"gain": (4,), "shift": (4,)}
BUFFERS = {"mean": (4,), "std": (4,), "eps": ()}
FROZEN = [  # the cases of probe.py's "count" observation, in order
    ("with nothing frozen", "아무것도 얼리지 않았을 때"),
    ("with the first Linear frozen", "첫 번째 Linear를 얼렸을 때"),
    ("with `0.weight` and `2.bias` frozen", "`0.weight`와 `2.bias`를 얼렸을 때"),
    ("with every parameter frozen", "모든 parameter를 얼렸을 때"),
]


def _starts_as(obs, names, en, ko):
    got, want = obs["initial"], obs.reference("initial")
    for name in names:
        if not (got.get(name) is not None and expect_tensor(got[name], f"`{name}`").close(want[name], 1e-8, 0)):
            fail(en=en, ko=ko)


@check("defines_feature_scaler", aspect="structure",
       en="Define `class FeatureScaler(nn.Module)` that can be created with `FeatureScaler(4)`.",
       ko="`FeatureScaler(4)`로 만들 수 있는 `class FeatureScaler(nn.Module)`을 정의하세요.")
def defines_feature_scaler(obs):
    obs["fresh"]


@check("parameters", aspect="parameters")
def parameters(obs):
    desc = obs["fresh"]
    expect_parameters(desc, PARAMETERS)
    if not all(trainable for _, _, trainable in module(desc)["parameters"]):
        fail(en="A freshly created FeatureScaler should have `gain` and `shift` trainable "
                "(requires_grad=True). Freeze `shift` on `scaler` after creating it, not in `__init__`.",
             ko="새로 만든 FeatureScaler에서는 `gain`과 `shift`가 모두 학습 가능(requires_grad=True)해야 "
                "합니다. `shift`는 `__init__`이 아니라 `scaler`를 만든 뒤에 얼리세요.")
    _starts_as(obs, ["gain", "shift"],
               en="`gain` should start as ones and `shift` as zeros: "
                  "`nn.Parameter(torch.ones(num_features))`, `nn.Parameter(torch.zeros(num_features))`.",
               ko="`gain`은 1, `shift`는 0으로 시작해야 합니다: "
                  "`nn.Parameter(torch.ones(num_features))`, `nn.Parameter(torch.zeros(num_features))`.")


@check("buffers", aspect="state")
def buffers(obs):
    expect_buffers(obs["fresh"], BUFFERS, non_persistent=["eps"])
    _starts_as(obs, ["mean", "std", "eps"],
               en="Keep the starting values: `mean` zeros, `std` ones and `eps` `1e-5`.",
               ko="시작 값은 그대로 두세요: `mean`은 0, `std`는 1, `eps`는 `1e-5`입니다.")


@check("state_dict", aspect="state")
def state_dict(obs):
    got, want = obs["state"], obs.reference("state")
    missing = [k for k in want["keys"] if k not in got["keys"]]
    extra = [k for k in got["keys"] if k not in want["keys"]]
    if missing or extra:
        fail("state_dict_keys", missing=", ".join(f"`{k}`" for k in missing) or "-",
             extra=", ".join(f"`{k}`" for k in extra) or "-")
    if got["load_error"] is not None or got["after"] is None:
        fail("state_dict_roundtrip")
    if not expect_tensor(got["after"], "the output after loading").close(
            expect_tensor(got["before"], "the output before saving")):
        fail("state_dict_roundtrip")
    left = [name for name, dtype in got["dtypes"].items() if dtype != want["dtypes"][name]]
    if left:
        fail("not_moved", target="torch.float64", names=", ".join(f"`{n}`" for n in left))


@check("forward", aspect="forward")
def forward(obs):
    got, want = obs["forward"], obs.reference("forward")
    n = want["n"]
    what = f"`FeatureScaler({n})(x)`"
    actual, expected = expect_tensor(got["out"], what), expect_tensor(want["out"], what)
    if actual.shape == expected.shape and not actual.close(expected, 1e-4, 1e-4):
        fail(en=f"With `gain`, `shift`, `mean` and `std` set to test values, {what} is not "
                f"`(x - mean) / (std + eps) * gain + shift` (largest difference {actual.max_diff(expected):.3g}). "
                "Keep the formula of `forward` as the starter has it.",
             ko=f"`gain`, `shift`, `mean`, `std`를 시험 값으로 바꾸면 {what}의 결과가 식 "
                f"`(x - mean) / (std + eps) * gain + shift`의 값과 다릅니다 (가장 큰 차이 "
                f"{actual.max_diff(expected):.3g}). `forward`의 식은 starter 그대로 두세요.")
    expect_close(actual, expected, what=what, atol=1e-4)


@check("count_trainable", aspect="output",
       en="Define `count_trainable(module)` that returns the number of elements of the parameters "
          "with requires_grad switched on.",
       ko="requires_grad가 켜진 parameter의 원소 수를 돌려주는 `count_trainable(module)`을 정의하세요.")
def count_trainable(obs):
    got, want = obs["count"], obs.reference("count")
    a, b, c = want["sizes"]
    net = f"`nn.Sequential(nn.Linear({a}, {b}), nn.ReLU(), nn.Linear({b}, {c}))`"
    for (en, ko), actual, expected in zip(FROZEN, got["counts"], want["counts"], strict=True):
        if actual != expected or type(actual) is not int:
            fail(en=f"`count_trainable` returned {actual!r} for {net} {en}; it should be {expected}. "
                    "Add up `p.numel()` only for the parameters whose `p.requires_grad` is True.",
                 ko=f"{net}에서 {ko} `count_trainable`이 돌려준 값은 {actual!r}, 올바른 값은 {expected}입니다. "
                    "`p.requires_grad`가 True인 parameter의 `p.numel()`만 더하세요.")


@check("shift_frozen", aspect="parameters")
def shift_frozen(obs):
    desc = obs["scaler"]
    trainable = {name: flag for name, _, flag in module(desc)["parameters"]}
    if "shift" not in trainable or "gain" not in trainable:
        expect_parameters(desc, PARAMETERS)
    if trainable["shift"]:
        fail(en="`scaler.shift` is still trainable. Freeze it after printing the first count: "
                "`scaler.shift.requires_grad_(False)`.",
             ko="`scaler.shift`가 아직 학습 가능합니다. 첫 번째 개수를 출력한 뒤 "
                "`scaler.shift.requires_grad_(False)`로 얼리세요.")
    if not trainable["gain"]:
        fail(en="`scaler.gain` is frozen too; freeze only `shift`.",
             ko="`scaler.gain`까지 얼어 있습니다. `shift`만 얼리세요.")


@check("printed_names", aspect="output", uses_output=True)
def printed_names(obs):
    for line in ("parameters: ['gain', 'shift']", "buffers: ['mean', 'std', 'eps']",
                 "state_dict: ['gain', 'shift', 'mean', 'std']"):
        expect_printed(obs, line)


@check("printed_trainable", aspect="output", uses_output=True)
def printed_trainable(obs):
    expect_printed(obs, "trainable: 8")
    expect_printed(obs, "trainable after freezing shift: 4")
