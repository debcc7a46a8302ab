"""Checks for MultiTaskNet: build_mlp gives a named nn.Sequential, heads an nn.ModuleDict, 884 parameters."""

import torch
from torch import nn

from questlab.grading.api import (
    check,
    expect_layers,
    expect_nonlinear,
    expect_printed,
    expect_printed_pattern,
    expect_state_dict,
    expect_total,
    fail,
    forward,
)

LAYERS = {"trunk.fc1": 8 * 32 + 32, "trunk.fc2": 32 * 16 + 16,
          "heads.score": 16 * 1 + 1, "heads.label": 16 * 3 + 3}
HEADS = {"score": 1, "label": 3}
REPR = """\
MultiTaskNet(
  (trunk): Sequential(
    (fc1): Linear(in_features=8, out_features=32, bias=True)
    (act1): ReLU()
    (fc2): Linear(in_features=32, out_features=16, bias=True)
  )
  (heads): ModuleDict(
    (score): Linear(in_features=16, out_features=1, bias=True)
    (label): Linear(in_features=16, out_features=3, bias=True)
  )
)"""


def _names(names):
    return ", ".join(names) or "-"


def _linear(n_in, n_out):
    return nn.Linear(n_in, n_out, device="meta")


@check("build_mlp", aspect="structure",
       en="Define `build_mlp(sizes)` that returns an `nn.Sequential`.",
       ko="`nn.Sequential`을 돌려주는 `build_mlp(sizes)`를 정의하세요.")
def build_mlp(sub):
    func = sub.ns.get("build_mlp")
    if not callable(func):
        fail()
    for sizes in ([8, 32, 16], [4, 8, 8, 2]):
        net = func(list(sizes))
        if not isinstance(net, nn.Sequential):
            fail(en=f"`build_mlp({sizes})` returned {type(net).__name__}; return an `nn.Sequential`, "
                    "e.g. `nn.Sequential(OrderedDict(layers))`.",
                 ko=f"`build_mlp({sizes})`가 {type(net).__name__}을 돌려줬습니다. "
                    "`nn.Sequential(OrderedDict(layers))`처럼 `nn.Sequential`을 돌려주세요.")
        n = len(sizes) - 1
        want = [name for i in range(1, n + 1) for name in (f"fc{i}", f"act{i}")][:-1]
        got = [name for name, _ in net.named_children()]
        if not got:
            fail(en=f"`build_mlp({sizes})` returned an empty nn.Sequential. For each pair of neighbouring "
                    "sizes append `(f\"fc{i}\", nn.Linear(n_in, n_out))`, and `(f\"act{i}\", nn.ReLU())` "
                    "after every Linear but the last.",
                 ko=f"`build_mlp({sizes})`가 빈 nn.Sequential을 돌려줬습니다. 이웃한 두 크기마다 "
                    "`(f\"fc{i}\", nn.Linear(n_in, n_out))`를, 마지막을 뺀 각 Linear 뒤에는 "
                    "`(f\"act{i}\", nn.ReLU())`를 append하세요.")
        if got == [*want, f"act{n}"]:
            fail(en=f"`build_mlp({sizes})` puts a ReLU `act{n}` after the last Linear `fc{n}`. The last "
                    "layer gives the features as they are: add `act<i>` only after the Linear layers before "
                    "it.",
                 ko=f"`build_mlp({sizes})`가 마지막 Linear `fc{n}` 뒤에도 ReLU `act{n}`을 둡니다. 마지막 "
                    "layer의 출력은 그대로 내보내야 하니 `act<i>`는 그 앞의 Linear 뒤에만 넣으세요.")
        if got and all(name.isdigit() for name in got):
            fail(en=f"The layers of `build_mlp({sizes})` have no names ({_names(got)}). Collect "
                    "`(name, module)` pairs such as `(\"fc1\", nn.Linear(...))` and pass them as "
                    "`nn.Sequential(OrderedDict(layers))`.",
                 ko=f"`build_mlp({sizes})`의 layer에 이름이 없습니다 ({_names(got)}). "
                    "`(\"fc1\", nn.Linear(...))` 같은 `(이름, module)` 쌍을 모아 "
                    "`nn.Sequential(OrderedDict(layers))`로 넘기세요.")
        if got != want:
            fail(en=f"`build_mlp({sizes})` should hold the layers {_names(want)} in this order, but it holds "
                    f"{_names(got)}. One Linear `fc<i>` per pair of neighbouring sizes, a ReLU `act<i>` "
                    f"after each Linear except the last.",
                 ko=f"`build_mlp({sizes})`에는 {_names(want)} layer가 이 순서로 있어야 하는데 "
                    f"{_names(got)}가 있습니다. 이웃한 두 크기마다 Linear `fc<i>` 하나, "
                    "마지막을 뺀 각 Linear 뒤에 ReLU `act<i>`를 두세요.")
        templates = {f"fc{i}": _linear(sizes[i - 1], sizes[i]) for i in range(1, n + 1)}
        templates.update({f"act{i}": nn.ReLU() for i in range(1, n)})
        expect_layers(net, templates)
        expect_nonlinear(net, torch.randn(2, sizes[0]), [f"fc{i}" for i in range(1, n + 1)])


@check("defines_model", aspect="structure",
       en="Define `class MultiTaskNet(nn.Module)` that can be created with `MultiTaskNet()`.",
       ko="`MultiTaskNet()`로 만들 수 있는 `class MultiTaskNet(nn.Module)`을 정의하세요.")
def defines_model(sub):
    sub.model("MultiTaskNet")


@check("trunk", aspect="structure")
def trunk(sub):
    model = sub.model("MultiTaskNet")
    net = getattr(model, "trunk", None)
    want = ["fc1", "act1", "fc2"]
    got = [name for name, _ in net.named_children()] if isinstance(net, nn.Module) else []
    if not isinstance(net, nn.Sequential) or got != want:
        if not got:
            fail(en="`self.trunk` is empty. It should be `build_mlp([8, 32, 16])`, an nn.Sequential holding "
                    "fc1, act1, fc2: complete `build_mlp` first.",
                 ko="`self.trunk`가 비어 있습니다. fc1, act1, fc2를 담은 nn.Sequential, 즉 "
                    "`build_mlp([8, 32, 16])`이어야 하니 먼저 `build_mlp`를 완성하세요.")
        fail(en=f"`self.trunk` should be `build_mlp([8, 32, 16])`, an nn.Sequential holding {_names(want)}; "
                f"it holds {_names(got)}.",
             ko=f"`self.trunk`는 {_names(want)}를 담은 nn.Sequential, 즉 `build_mlp([8, 32, 16])`이어야 "
                f"하는데 {_names(got)}를 담고 있습니다.")
    expect_layers(model, {"trunk.fc1": _linear(8, 32), "trunk.act1": nn.ReLU(), "trunk.fc2": _linear(32, 16)})


@check("heads", aspect="structure")
def heads(sub):
    model = sub.model("MultiTaskNet")
    value = getattr(model, "heads", None)
    if isinstance(value, dict) and not value:
        fail(en="`self.heads` is an empty plain dict, so PyTorch registers nothing. Make it "
                "`nn.ModuleDict({\"score\": nn.Linear(16, 1), \"label\": nn.Linear(16, 3)})`.",
             ko="`self.heads`가 비어 있는 평범한 dict라서 PyTorch가 아무것도 등록하지 않습니다. "
                "`nn.ModuleDict({\"score\": nn.Linear(16, 1), \"label\": nn.Linear(16, 3)})`로 만드세요.")
    expect_layers(model, {"heads": nn.ModuleDict(), "heads.score": _linear(16, 1),
                          "heads.label": _linear(16, 3)})
    keys = list(model.heads.keys())
    if keys != list(HEADS):
        fail(en=f"The keys of `heads` are {_names(keys)}; they should be score, label, in that order "
                "(the outputs are printed in this order).",
             ko=f"`heads`의 key가 {_names(keys)}입니다. score, label 순서여야 합니다 "
                "(출력도 이 순서로 나옵니다).")


@check("parameter_count", aspect="parameters")
def parameter_count(sub):
    expect_total(sub.model("MultiTaskNet"), 884, layers=LAYERS)


@check("outputs", aspect="forward")
def outputs(sub):
    model = sub.model("MultiTaskNet")
    x = torch.randn(5, 8)
    out = forward(model, x)
    if out == {}:
        fail(en="`model(x)` returned an empty dict: `forward` runs every head in `self.heads`, and there are "
                "none yet. Put the score and label heads in the `nn.ModuleDict`.",
             ko="`model(x)`가 빈 dict를 돌려줬습니다. `forward`는 `self.heads`의 head를 모두 실행하는데 아직 "
                "하나도 없습니다. score와 label head를 `nn.ModuleDict`에 넣으세요.")
    if not isinstance(out, dict) or list(out) != list(HEADS):
        got = _names(list(out)) if isinstance(out, dict) else type(out).__name__
        fail(en=f"`model(x)` should return a dict with the keys score, label; it returned {got}. "
                "Keep the starter's `forward`.",
             ko=f"`model(x)`는 score, label key를 가진 dict를 돌려줘야 하는데 {got}을 돌려줬습니다. "
                "starter의 `forward`를 그대로 두세요.")
    for name, width in HEADS.items():
        if tuple(out[name].shape) != (5, width):
            fail(en=f"`model(x)[\"{name}\"]` has shape {tuple(out[name].shape)} for 5 inputs; it should be "
                    f"(5, {width}).",
                 ko=f"입력 5개에 대해 `model(x)[\"{name}\"]`의 shape이 {tuple(out[name].shape)}입니다. "
                    f"(5, {width})이어야 합니다.")


@check("state_dict", aspect="state")
def state_dict(sub):
    keys = [f"{layer}.{kind}" for layer in LAYERS for kind in ("weight", "bias")]
    expect_state_dict(sub.model("MultiTaskNet"), keys=keys)


@check("printed_model", aspect="output", uses_output=True)
def printed_model(sub):
    for line in REPR.splitlines():
        expect_printed(sub, line)


@check("printed_outputs", aspect="output", uses_output=True)
def printed_outputs(sub):
    expect_printed(sub, "score (5, 1)")
    expect_printed(sub, "label (5, 3)")
    expect_printed_pattern(sub, r"total:\s*([0-9_,]+)", expected="884", example="total: 884")
