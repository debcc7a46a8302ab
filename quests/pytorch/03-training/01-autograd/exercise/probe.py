"""Observations for the autograd exercise (runs in the sandbox after the program; holds no answers).

`gradient_step` is called twice in a row on one scalar `w` drawn from the submission's seed,
with seeded `x`, `y` and `lr`. Each call reports what it returned (or raised), how often
autograd's backward pass reached `w`, and `w` afterwards. The program's own `w` is reported too.
"""

import torch

from questlab.grading.sandbox import observation


def _number(value):
    """A returned number as a float (a one-element tensor counts too), else what it is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach().reshape(()))
    return {"kind": type(value).__name__}


def _state(t):
    """A scalar tensor's value, whether autograd tracks it, and its gradient."""
    if not isinstance(t, torch.Tensor):
        return {"kind": type(t).__name__}
    grad = t.grad if t.is_leaf else None  # a non-leaf's .grad is never filled (and warns)
    return {
        "kind": "tensor",
        "value": t.detach().clone(),
        "requires_grad": bool(t.requires_grad),
        "is_leaf": bool(t.is_leaf),
        "grad": None if grad is None else grad.detach().clone(),
    }


@observation("steps")
def steps(sub):
    step = sub.function("gradient_step")
    w = sub.inputs.randn("w", 1).reshape(()).clone().requires_grad_()  # a 0-d leaf, not a view
    x = sub.inputs.randn("x", 6)
    y = sub.inputs.randn("y", 6)
    lr = round(0.01 + 0.09 * float(sub.inputs.rand("lr", 1)), 4)
    start = float(w.detach())
    reached = []
    w.register_hook(lambda grad: reached.append(1))  # runs when backward computes w's gradient
    calls = []
    for _ in range(2):
        before = len(reached)
        returned, raised = None, None
        try:
            out = step(w, x.clone(), y.clone(), lr)
            if isinstance(out, (tuple, list)):
                returned = [_number(v) for v in out]
            else:
                returned = {"kind": type(out).__name__}
        except Exception as exc:
            raised = f"{type(exc).__name__}: {exc}"[:300]
        calls.append({"returned": returned, "raised": raised, "reached_w": len(reached) - before,
                      "w": _state(w)})
        if raised:
            break
    return {"w": start, "lr": lr, "calls": calls}


@observation("program")
def program(sub):
    # The program's own `w` after it ran: gradient_step(w, x, y, lr=0.05) on the prompt's data.
    return _state(sub.value("w"))
