"""Checks for MultiTaskNet: build_mlp gives a named nn.Sequential, heads an nn.ModuleDict, 884 parameters.

Judged on the server from what probe.py observed. build_mlp is tried on sizes drawn from the
submission's seed, and every output is compared with the reference solution's on seeded
inputs and parameters.
"""

from questlab.grading.judge import (
    check,
    expect_close,
    expect_layers,
    expect_printed,
    expect_printed_in_order,
    expect_printed_pattern,
    expect_same_outputs,
    expect_total,
    fail,
    layers_of,
    module,
)

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
    return ", ".join(f"`{n}`" for n in names) or "-"


def _templates(desc, names):
    found = layers_of(desc)
    return {n: f"{found[n][0]}({found[n][1]})" for n in names}


@check("build_mlp", aspect="structure",
       en="Define `build_mlp(sizes)` that returns an `nn.Sequential`.",
       ko="`nn.Sequential`을 돌려주는 `build_mlp(sizes)`를 정의하세요.")
def build_mlp(obs):
    got, want = obs["build_mlp"], obs.reference("build_mlp")
    for case, ref in zip(got, want, strict=True):
        call = f"`build_mlp({ref['sizes']})`"
        if case["raised"] is not None:
            fail(en=f"{call} raised {case['raised']}.", ko=f"{call}에서 {case['raised']} 오류가 났습니다.")
        if case["type"] != "Sequential":
            fail(en=f"{call} returned {case['type']}; return an `nn.Sequential`, "
                    "e.g. `nn.Sequential(OrderedDict(layers))`.",
                 ko=f"{call}가 {case['type']}을 돌려줬습니다. "
                    "`nn.Sequential(OrderedDict(layers))`처럼 `nn.Sequential`을 돌려주세요.")
        children, expected = case["children"], ref["children"]
        n = len(ref["sizes"]) - 1
        if not children:
            fail(en=f"{call} returned an empty nn.Sequential. For each pair of neighbouring "
                    "sizes append `(f\"fc{i}\", nn.Linear(n_in, n_out))`, and `(f\"act{i}\", nn.ReLU())` "
                    "after every Linear but the last.",
                 ko=f"{call}가 빈 nn.Sequential을 돌려줬습니다. 이웃한 두 크기마다 "
                    "`(f\"fc{i}\", nn.Linear(n_in, n_out))`를, 마지막을 뺀 각 Linear 뒤에는 "
                    "`(f\"act{i}\", nn.ReLU())`를 append하세요.")
        if children == [*expected, f"act{n}"]:
            fail(en=f"{call} puts a ReLU `act{n}` after the last Linear `fc{n}`. The last "
                    "layer gives the features as they are: add `act<i>` only after the Linear layers before it.",
                 ko=f"{call}에는 마지막 Linear `fc{n}` 뒤에도 ReLU `act{n}`가 있습니다. 마지막 "
                    "layer의 출력은 그대로 내보내야 하니 `act<i>`는 그 앞의 Linear 뒤에만 넣으세요.")
        if all(name.isdigit() for name in children):
            fail(en=f"The layers of {call} have no names ({_names(children)}). Collect "
                    "`(name, module)` pairs such as `(\"fc1\", nn.Linear(...))` and pass them as "
                    "`nn.Sequential(OrderedDict(layers))`.",
                 ko=f"{call}의 layer에 이름이 없습니다 ({_names(children)}). "
                    "`(\"fc1\", nn.Linear(...))` 같은 `(이름, module)` 쌍을 모아 "
                    "`nn.Sequential(OrderedDict(layers))`로 넘기세요.")
        if children != expected:
            fail(en=f"{call} should hold the layers {_names(expected)} in this order, but it holds "
                    f"{_names(children)}. One Linear `fc<i>` per pair of neighbouring sizes, a ReLU `act<i>` "
                    "after each Linear except the last.",
                 ko=f"{call}에는 {_names(expected)} layer가 이 순서로 있어야 하는데 "
                    f"{_names(children)}가 있습니다. 이웃한 두 크기마다 Linear `fc<i>` 하나, "
                    "마지막을 뺀 각 Linear 뒤에 ReLU `act<i>`를 두세요.")
        expect_layers(case["desc"], _templates(ref["desc"], expected))
        expect_same_outputs(case["desc"], ref["desc"])


@check("defines_model", aspect="structure",
       en="Define `class MultiTaskNet(nn.Module)` that can be created with `MultiTaskNet()`.",
       ko="`MultiTaskNet()`로 만들 수 있는 `class MultiTaskNet(nn.Module)`을 정의하세요.")
def defines_model(obs):
    obs["model"]


@check("trunk", aspect="structure")
def trunk(obs):
    found = layers_of(obs["model"])
    want = ["fc1", "act1", "fc2"]
    got = [name.removeprefix("trunk.") for name in found if name.count(".") == 1 and name.startswith("trunk.")]
    if found.get("trunk", ("",))[0] != "Sequential" or got != want:
        if not got:
            fail(en="`self.trunk` is empty. It should be `build_mlp([8, 32, 16])`, an nn.Sequential holding "
                    "fc1, act1, fc2: complete `build_mlp` first.",
                 ko="`self.trunk`가 비어 있습니다. fc1, act1, fc2를 담은 nn.Sequential, 즉 "
                    "`build_mlp([8, 32, 16])`이어야 하니 먼저 `build_mlp`를 완성하세요.")
        fail(en=f"`self.trunk` should be `build_mlp([8, 32, 16])`, an nn.Sequential holding {_names(want)}; "
                f"it holds {_names(got)}.",
             ko=f"`self.trunk`는 {_names(want)}를 담은 nn.Sequential, 즉 `build_mlp([8, 32, 16])`이어야 "
                f"하는데 {_names(got)}를 담고 있습니다.")
    expect_layers(obs["model"], {"trunk.fc1": "Linear(in_features=8, out_features=32, bias=True)",
                                 "trunk.act1": "ReLU()",
                                 "trunk.fc2": "Linear(in_features=32, out_features=16, bias=True)"})


@check("heads", aspect="structure")
def heads(obs):
    value = obs["heads"]
    if value["type"] == "dict" and not value["keys"]:
        fail(en="`self.heads` is an empty plain dict, so PyTorch registers nothing. Make it "
                "`nn.ModuleDict({\"score\": nn.Linear(16, 1), \"label\": nn.Linear(16, 3)})`.",
             ko="`self.heads`가 비어 있는 평범한 dict라서 PyTorch가 아무것도 등록하지 않습니다. "
                "`nn.ModuleDict({\"score\": nn.Linear(16, 1), \"label\": nn.Linear(16, 3)})`로 만드세요.")
    expect_layers(obs["model"], {"heads": "ModuleDict()",
                                 "heads.score": "Linear(in_features=16, out_features=1, bias=True)",
                                 "heads.label": "Linear(in_features=16, out_features=3, bias=True)"})
    if value["keys"] != list(HEADS):
        fail(en=f"The keys of `heads` are {_names(value['keys'] or [])}; they should be `score`, `label`, "
                "in that order (the outputs are printed in this order).",
             ko=f"`heads`의 key가 {_names(value['keys'] or [])}입니다. `score`, `label` 순서여야 합니다 "
                "(출력도 이 순서로 나옵니다).")


@check("parameter_count", aspect="parameters")
def parameter_count(obs):
    expect_total(obs["model"], 884)


@check("outputs", aspect="forward")
def outputs(obs):
    got = module(obs["model"])["outputs"].get("x")
    want = module(obs.reference("model"))["outputs"]["x"]
    if got == {}:
        fail(en="`model(x)` returned an empty dict: `forward` runs every head in `self.heads`, and there are "
                "none yet. Put the score and label heads in the `nn.ModuleDict`.",
             ko="`model(x)`가 빈 dict를 돌려줬습니다. `forward`는 `self.heads`의 head를 모두 실행하는데 아직 "
                "하나도 없습니다. score와 label head를 `nn.ModuleDict`에 넣으세요.")
    if not isinstance(got, dict) or list(got) != list(want):
        shown = _names(list(got)) if isinstance(got, dict) else type(got).__name__
        fail(en=f"`model(x)` should return a dict with the keys `score`, `label`; it returned {shown}. "
                "Keep the starter's `forward`.",
             ko=f"`model(x)`는 `score`, `label` key를 가진 dict를 돌려줘야 하는데 {shown}을 돌려줬습니다. "
                "starter의 `forward`를 그대로 두세요.")
    for name in want:
        # Same seeded batch, same seeded parameters: each head's output must be the reference's.
        expect_close(got[name], want[name], what=f"`model(x)[\"{name}\"]`")


@check("state_dict", aspect="state")
def state_dict(obs):
    got, want = obs["state_keys"], obs.reference("state_keys")
    if got != want:
        fail("state_dict_keys", missing=_names([k for k in want if k not in got]),
             extra=_names([k for k in got if k not in want]))


@check("printed_model", aspect="output", uses_output=True)
def printed_model(obs):
    expected = REPR.splitlines()
    expect_printed_in_order(obs, expected)
    # print(model) is one block: nothing may stand between its lines.
    lines = obs.lines()
    start = lines.index(expected[0])
    block = lines[start:start + len(expected)]
    for want, line in zip(expected, block, strict=False):
        if line != want:
            fail(en=f"`print(model)` shows `{line.strip()}` where `{want.strip()}` should be: "
                    "the model holds a module that was not asked for, or misses one.",
                 ko=f"`print(model)`에 `{want.strip()}` 대신 `{line.strip()}`이 보입니다. "
                    "요구하지 않은 module이 있거나, 있어야 할 module이 빠졌습니다.")


@check("printed_outputs", aspect="output", uses_output=True)
def printed_outputs(obs):
    expect_printed(obs, "score (5, 1)")
    expect_printed(obs, "label (5, 3)")
    expect_printed_pattern(obs, r"total:\s*([0-9_,]+)", expected="884", example="total: 884")
