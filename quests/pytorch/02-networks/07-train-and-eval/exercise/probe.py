"""Observations for the predict exercise (runs in the sandbox after the program; holds no answers).

`predict` is called twice on each of two models built here from the submission's seed (an
nn.Sequential, and a nested model), each with BatchNorm and Dropout and running statistics
warmed up on seeded batches, once starting in train mode and once in eval mode. The probe
reports the mode every module was in while `predict` ran it, the output of the first call and
whether the second gave the same, whether the running statistics changed, whether the output
carries an autograd graph, and the mode of every module after the first call.
"""

import torch
from torch import nn

from questlab.grading.sandbox import observation

CASES = ("seq", "nested")
STARTS = ("train", "eval")


class Nested(nn.Module):
    """BatchNorm and Dropout one level down, inside `features`."""

    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.features = nn.Sequential(
            nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.3)
        )
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.head(self.features(x))


def _sizes(sub, case, n):
    # Layer widths the program cannot guess: 3 to 8 each.
    return [3 + sub.inputs.seed_for(f"{case}:size:{i}") % 6 for i in range(n)]


def _build(sub, case, start):
    """A freshly built model with warmed-up running statistics, put in mode ``start``."""
    torch.manual_seed(sub.inputs.seed_for(f"model:{case}"))
    a, b, c = _sizes(sub, case, 3)
    if case == "seq":
        model = nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(), nn.Dropout(0.5), nn.Linear(b, c))
    else:
        model = Nested(a, b, c)
    model.train()
    with torch.no_grad():
        for i in range(3):
            model(sub.inputs.randn(f"warm:{case}:{i}", 16, a) * 2 + 1)
    model.train(start == "train")
    return model, a


def _error(exc):
    return f"{type(exc).__name__}: {exc}"[:300]


def _run(sub, case, start):
    predict = sub.function("predict")
    model, n_in = _build(sub, case, start)
    x = sub.inputs.randn(f"x:{case}", 8, n_in)
    buffers = {name: b.clone() for name, b in model.named_buffers()}

    # The mode each module is in when it runs during the first call.
    during = {}

    def recorder(name):
        def record(module, args):
            during.setdefault(name, module.training)  # returns nothing: the input is left alone

        return record

    handles = [m.register_forward_pre_hook(recorder(name)) for name, m in model.named_modules()]
    found = {
        "raised": None,
        "kind": None,
        "during": None,
        "output": None,
        "same_twice": None,
        "grad_fn": None,
        "requires_grad": None,
    }
    torch.manual_seed(sub.inputs.seed_for(f"dropout:{case}:{start}"))  # Dropout, if it is on, is seeded
    try:
        first = predict(model, x)
    except Exception as exc:
        found["raised"] = _error(exc)
        first = None
    for handle in handles:
        handle.remove()
    found["during"] = {name or "(model)": bool(mode) for name, mode in during.items()}
    found["modes"] = {name or "(model)": bool(m.training) for name, m in model.named_modules()}
    if found["raised"] is None:
        found["kind"] = type(first).__name__
        if isinstance(first, torch.Tensor):
            found["output"] = first.detach().clone()
            found["grad_fn"] = first.grad_fn is not None
            found["requires_grad"] = bool(first.requires_grad)
            try:
                second = predict(model, x)
                found["same_twice"] = (
                    torch.equal(first.detach(), second.detach()) if isinstance(second, torch.Tensor) else None
                )
            except Exception as exc:
                found["same_twice"] = _error(exc)
    found["changed"] = sorted(
        name for name, b in model.named_buffers() if name not in buffers or not torch.equal(b, buffers[name])
    )
    return found


_DONE = {}


def _observed(sub):
    """Every (model, starting mode) run, made once per run and shared by the observations below."""
    if "runs" not in _DONE:
        sub.function("predict")  # no function: every observation says so
        _DONE["runs"] = {f"{case}/{start}": _run(sub, case, start) for case in CASES for start in STARTS}
    return _DONE["runs"]


def _part(sub, *keys):
    return {run: {k: found.get(k) for k in keys} for run, found in _observed(sub).items()}


# One observation per aspect, so that each check reads only what it judges.
@observation("returned")
def returned(sub):
    # Whether the first call raised, and the type of what it returned.
    return _part(sub, "raised", "kind")


@observation("during")
def during(sub):
    # The `training` flag of each module at the moment the first call ran it.
    return _part(sub, "during")


@observation("outputs")
def outputs(sub):
    # What the first call returned.
    return _part(sub, "output")


@observation("repeat")
def repeat(sub):
    # Whether a second call on the same input returned the same values.
    return _part(sub, "same_twice")


@observation("buffers")
def buffers(sub):
    # The buffers (running statistics) that the two calls changed.
    return _part(sub, "changed")


@observation("graph")
def graph(sub):
    # Whether the first call's output carries an autograd graph.
    return _part(sub, "grad_fn", "requires_grad")


@observation("modes")
def modes(sub):
    # The `training` flag of every module after the first call.
    return _part(sub, "modes")
