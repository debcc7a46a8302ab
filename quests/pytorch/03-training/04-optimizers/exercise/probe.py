"""Observations for the param-groups exercise (runs in the sandbox after the program; holds no answers).

`make_optimizer` is called on fresh `Net()` objects: its param groups are reported by parameter
name, then the optimizer takes two steps with gradients drawn from the submission's seed, and a
group added afterwards shows what the optimizer's defaults are. `scale_lr` is called on an
optimizer with seeded learning rates and a seeded factor.
"""

import torch
from torch import nn

from questlab.grading.sandbox import observation

SETTINGS = ("lr", "momentum", "weight_decay", "dampening", "nesterov")


def _call(func, *args):
    """``(result, None)``, or ``(None, "Type: message")`` when the learner's function raised."""
    try:
        return func(*args), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]


def _optimizer(sub):
    """A fresh Net and what make_optimizer returned for it (or the error)."""
    model = sub.model("Net")
    optimizer, raised = _call(sub.function("make_optimizer"), model)
    return model, optimizer, raised


def _setting(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)
    return str(type(value).__name__)


@observation("groups")
def groups(sub):
    model, optimizer, raised = _optimizer(sub)
    if raised:
        return {"raised": raised}
    if not isinstance(optimizer, torch.optim.Optimizer):
        return {"raised": None, "class": type(optimizer).__name__, "groups": None}
    names = {id(p): n for n, p in model.named_parameters()}
    return {
        "raised": None,
        "class": type(optimizer).__name__,
        "groups": [
            {
                "params": [names.get(id(p), "?") for p in group["params"]],
                **{key: _setting(group.get(key)) for key in SETTINGS},
            }
            for group in optimizer.param_groups
        ],
        "unassigned": sorted(
            set(names.values()) - {names.get(id(p)) for g in optimizer.param_groups for p in g["params"]}
        ),
    }


@observation("steps")
def steps(sub):
    # Two steps with seeded gradients, in float64 so that even a small weight decay shows:
    # the learning rate, momentum and weight decay of each group decide where the parameters end.
    model = sub.model("Net").double()
    optimizer, raised = _call(sub.function("make_optimizer"), model)
    if raised:
        return {"raised": raised, "in": "make_optimizer(Net())"}
    if not isinstance(optimizer, torch.optim.Optimizer):
        return {"raised": None, "in": None, "class": type(optimizer).__name__}
    params = list(model.parameters())
    with torch.no_grad():
        for i, p in enumerate(params):
            p.copy_(sub.inputs.fill(f"param:{i}", *p.shape, bound=0.5).double())
    for step in range(2):
        for i, p in enumerate(params):
            p.grad = sub.inputs.randn(f"grad:{step}:{i}", *p.shape).double()
        _, raised = _call(optimizer.step)
        if raised:
            return {"raised": raised, "in": "optimizer.step()"}
    return {"raised": None, "in": None, "parameters": torch.cat([p.detach().reshape(-1) for p in params])}


@observation("added_group")
def added_group(sub):
    # A group added later with only its own params and lr takes every other setting from the defaults.
    _, optimizer, raised = _optimizer(sub)
    if raised:
        return {"raised": raised, "in": "make_optimizer(Net())"}
    if not isinstance(optimizer, torch.optim.Optimizer):
        return {"raised": None, "in": None, "class": type(optimizer).__name__}
    _, raised = _call(optimizer.add_param_group, {"params": [nn.Parameter(torch.zeros(2))], "lr": 0.05})
    if raised:
        return {"raised": raised, "in": "optimizer.add_param_group(...)"}
    group = optimizer.param_groups[-1]
    return {"raised": None, "in": None, **{key: _setting(group.get(key)) for key in SETTINGS if key != "lr"}}


@observation("scale_lr")
def scale_lr(sub):
    scale = sub.function("scale_lr")
    rates = [round(0.01 + 0.5 * float(r), 4) for r in sub.inputs.rand("lrs", 3)]
    factor = round(0.1 + 0.8 * float(sub.inputs.rand("factor", 1)), 3)
    layers = [nn.Linear(2, 2) for _ in rates]
    optimizer = torch.optim.SGD(
        [{"params": m.parameters(), "lr": lr} for m, lr in zip(layers, rates, strict=True)], lr=1.0
    )
    _, raised = _call(scale, optimizer, factor)
    return {
        "rates": rates,
        "factor": factor,
        "raised": raised,
        "after": [_setting(group["lr"]) for group in optimizer.param_groups],
    }
