"""Observations for the gradient-accumulation exercise (runs in the sandbox after the program; holds no answers).

The learner's `accumulated_step` is called on a small regression model, a batch of 24 samples,
a number of micro-batches and a learning rate, all drawn here from the submission's seed. What
it did is traced with PyTorch's own hooks (the rows of each forward pass, each backward pass
reaching the first weight, each optimizer step); where it left the parameters is reported with
clipping out of the way, with clipping active, and after two calls in a row.
"""

import torch
from torch import nn

from questlab.grading.sandbox import observation

ROWS = 24
NO_CLIPPING = 1e6  # far above any gradient norm here: clipping never acts


def _setup(sub, name):
    """A fresh model with seeded weights, its batch, the MSE loss and a plain SGD optimizer."""
    x = sub.inputs.randn(f"{name}:x", ROWS, 3)
    y = sub.inputs.randn(f"{name}:y", ROWS, 1)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(sub.inputs.fill(f"{name}:param:{i}", *p.shape, bound=0.7))
    lr = round(0.05 + 0.25 * float(sub.inputs.rand(f"{name}:lr", 1)), 4)
    return model, x, y, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=lr), lr


def _micro_batches(sub):
    return (3, 4, 6)[int(sub.inputs.randint("micro_batches", 0, 3, (1,)))]


def _returned(value):
    """A returned norm: a float, or what else it is (a tensor's value and whether it holds a graph)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"kind": type(value).__name__, "value": float(value)}
    if isinstance(value, torch.Tensor):
        number = float(value.detach().reshape(-1)[0]) if value.numel() else None
        return {"kind": "Tensor", "value": number, "requires_grad": bool(value.requires_grad)}
    return {"kind": type(value).__name__}


def _flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def _call(step, model, x, y, loss_fn, optimizer, k, max_norm):
    try:
        return _returned(step(model, x, y, loss_fn, optimizer, k, max_norm)), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]


@observation("trace")
def trace(sub):
    step = sub.function("accumulated_step")
    model, x, y, loss_fn, optimizer, _ = _setup(sub, "trace")
    k = _micro_batches(sub)
    events = []
    model.register_forward_pre_hook(lambda module, args: events.append(f"forward {len(args[0])}"))
    model[0].weight.register_hook(lambda grad: events.append("backward"))
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: events.append("step"))
    _, raised = _call(step, model, x, y, loss_fn, optimizer, k, NO_CLIPPING)
    return {"rows": ROWS, "micro_batches": k, "raised": raised, "events": events[:60]}


@observation("unclipped")
def unclipped(sub):
    # Clipping out of the way: the step alone, compared with one big-batch step.
    step = sub.function("accumulated_step")
    model, x, y, loss_fn, optimizer, lr = _setup(sub, "unclipped")
    k = _micro_batches(sub)
    before = _flat(model)
    returned, raised = _call(step, model, x, y, loss_fn, optimizer, k, NO_CLIPPING)
    return {
        "micro_batches": k,
        "lr": lr,
        "raised": raised,
        "returned": returned,
        "moved": _flat(model) - before,
    }


@observation("clipped")
def clipped(sub):
    # A max_norm well below the gradient norms of this model and batch: clipping acts.
    step = sub.function("accumulated_step")
    model, x, y, loss_fn, optimizer, lr = _setup(sub, "clipped")
    k = _micro_batches(sub)
    max_norm = round(0.02 + 0.06 * float(sub.inputs.rand("max_norm", 1)), 4)
    before = _flat(model)
    returned, raised = _call(step, model, x, y, loss_fn, optimizer, k, max_norm)
    return {
        "micro_batches": k,
        "max_norm": max_norm,
        "raised": raised,
        "returned": returned,
        "moved": _flat(model) - before,
    }


@observation("twice")
def twice(sub):
    # Two calls in a row on the same model and optimizer, as a training loop makes them.
    step = sub.function("accumulated_step")
    model, x, y, loss_fn, optimizer, _ = _setup(sub, "twice")
    x2, y2 = sub.inputs.randn("twice:x2", ROWS, 3), sub.inputs.randn("twice:y2", ROWS, 1)
    k = _micro_batches(sub)
    first, raised = _call(step, model, x, y, loss_fn, optimizer, k, NO_CLIPPING)
    after_first = _flat(model)
    second, raised_second = _call(step, model, x2, y2, loss_fn, optimizer, k, NO_CLIPPING)
    return {
        "micro_batches": k,
        "raised": raised or raised_second,
        "returned": [first, second],
        "after_first": after_first,
        "after_second": _flat(model),
    }
