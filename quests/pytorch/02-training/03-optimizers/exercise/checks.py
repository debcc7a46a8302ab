"""Checks for make_optimizer (SGD, two param groups, momentum as a default) and scale_lr (every lr)."""

import math

import torch
from torch import nn

from questlab.grading.api import check, expect_printed, fail

GROUPS = [("backbone", 0.001, 0.0), ("head", 0.01, 1e-4)]


def func(sub, name, signature):
    value = sub.ns.get(name)
    if not callable(value):
        fail(en=f"Define `{signature}`.", ko=f"`{signature}`를 정의하세요.")
    return value


def same(a, b):
    return math.isclose(float(a), b, rel_tol=1e-9, abs_tol=1e-12)


@check("param_groups", aspect="parameters")
def param_groups(sub):
    model = sub.new_model("Net")
    optimizer = func(sub, "make_optimizer", "make_optimizer(model)")(model)
    if not isinstance(optimizer, torch.optim.SGD):
        fail(en=f"`make_optimizer` returned {type(optimizer).__name__}; return a `torch.optim.SGD`.",
             ko=f"`make_optimizer`가 {type(optimizer).__name__}을 돌려줬습니다. "
                "`torch.optim.SGD`를 돌려주세요.")
    groups = optimizer.param_groups
    if len(groups) != 2:
        fail(en=f"The optimizer has {len(groups)} param group(s); it should have 2. Pass a list of two "
                "dicts: `torch.optim.SGD([{\"params\": model.backbone.parameters(), ...}, "
                "{\"params\": model.head.parameters(), ...}], momentum=0.9)`.",
             ko=f"optimizer의 param group이 {len(groups)}개입니다. 2개여야 합니다. dict 두 개의 list를 "
                "넘기세요: `torch.optim.SGD([{\"params\": model.backbone.parameters(), ...}, "
                "{\"params\": model.head.parameters(), ...}], momentum=0.9)`.")
    for i, (part, lr, decay) in enumerate(GROUPS):
        group = groups[i]
        want = {id(p) for p in getattr(model, part).parameters()}
        if {id(p) for p in group["params"]} != want or len(group["params"]) != len(want):
            fail(en=f"Group {i} should hold exactly the parameters of `model.{part}` "
                    f"(`model.{part}.parameters()`).",
                 ko=f"group {i}에는 `model.{part}`의 parameter(`model.{part}.parameters()`)만 정확히 "
                    "들어 있어야 합니다.")
        got = (group["lr"], group["weight_decay"], group["momentum"])
        if not (same(got[0], lr) and same(got[1], decay) and same(got[2], 0.9)):
            fail(en=f"Group {i} (`{part}`) has lr={got[0]:g}, weight_decay={got[1]:g}, momentum={got[2]:g}; "
                    f"it should have lr={lr:g}, weight_decay={decay:g}, momentum=0.9.",
                 ko=f"group {i}(`{part}`)가 lr={got[0]:g}, weight_decay={got[1]:g}, "
                    f"momentum={got[2]:g}입니다. lr={lr:g}, weight_decay={decay:g}, momentum=0.9여야 합니다.")


@check("momentum_default", aspect="parameters")
def momentum_default(sub):
    optimizer = func(sub, "make_optimizer", "make_optimizer(model)")(sub.new_model("Net"))
    if not same(optimizer.defaults.get("momentum", 0), 0.9):
        fail(en="Give `momentum=0.9` once, as a keyword of `torch.optim.SGD(...)` after the list of groups, "
                "so that every group takes it as the default.",
             ko="`momentum=0.9`는 group list 뒤에 `torch.optim.SGD(...)`의 keyword로 한 번만 주어 "
                "모든 group이 기본값으로 쓰게 하세요.")


@check("scale_lr", aspect="parameters")
def scale_lr(sub):
    scale = func(sub, "scale_lr", "scale_lr(optimizer, factor)")
    layers = [nn.Linear(2, 2) for _ in range(3)]
    optimizer = torch.optim.SGD([{"params": m.parameters(), "lr": lr}
                                 for m, lr in zip(layers, (0.1, 0.2, 0.4), strict=True)], lr=1.0)
    scale(optimizer, 0.5)
    got = [group["lr"] for group in optimizer.param_groups]
    if len(got) != 3 or not all(same(g, w) for g, w in zip(got, (0.05, 0.1, 0.2), strict=True)):
        shown = ", ".join(f"{g:g}" for g in got)
        fail(en=f"For three groups with lr 0.1, 0.2, 0.4, `scale_lr(optimizer, 0.5)` left lr {shown}; they "
                "should be 0.05, 0.1, 0.2. Multiply the lr of every group: "
                "`for group in optimizer.param_groups: group[\"lr\"] *= factor`.",
             ko=f"lr가 0.1, 0.2, 0.4인 group 세 개에 `scale_lr(optimizer, 0.5)`를 부르자 lr가 {shown}이 "
                "되었습니다. 0.05, 0.1, 0.2여야 합니다. 모든 group의 lr를 곱하세요: "
                "`for group in optimizer.param_groups: group[\"lr\"] *= factor`.")


@check("printed", aspect="output", uses_output=True)
def printed(sub):
    for line in ("group 0: lr=0.001 momentum=0.9 weight_decay=0 params=4",
                 "group 1: lr=0.01 momentum=0.9 weight_decay=0.0001 params=2",
                 "every parameter in a group: True",
                 "after scale_lr(0.1): ['0.0001', '0.001']"):
        expect_printed(sub, line)
