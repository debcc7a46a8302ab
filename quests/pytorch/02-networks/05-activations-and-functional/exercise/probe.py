"""Observations for the Block exercise (runs in the sandbox after the program; holds no answers).

A new Block is built for each activation factory below, with widths drawn from the seed, and
observed with describe_module (seeded inputs, seeded parameters). With inplace=True the probe
also looks at what a call does to the caller's tensor, whether act2 writes into fc1's output,
and the gradient that reaches the input.
"""

import functools

import torch
from torch import nn

from questlab.grading.sandbox import describe_module, observation

#: (case name, factory, inplace): stateless and stateful activations, classes and other callables.
CASES = (
    ("ReLU", nn.ReLU, False),
    ("GELU", nn.GELU, False),
    ("SiLU", nn.SiLU, False),
    ("Tanh", nn.Tanh, False),
    ("Sigmoid", nn.Sigmoid, False),
    ("PReLU", nn.PReLU, False),
    ("LeakyReLU(0.2)", functools.partial(nn.LeakyReLU, 0.2), False),
    ("ReLU, inplace=True", nn.ReLU, True),
    ("SiLU, inplace=True", nn.SiLU, True),
)


def _sizes(sub):
    dim = 4 + sub.inputs.seed_for("dim") % 5
    hidden = 9 + sub.inputs.seed_for("hidden") % 7
    return dim, hidden


def _raised(err):
    return f"{type(err).__name__}: {err}"[:300]


def _block(sub, factory, inplace):
    # A new Block built after seeding torch, or the reason it could not be made.
    dim, hidden = _sizes(sub)
    cls = sub.module_class("Block")
    torch.manual_seed(sub.inputs.seed_for("model:Block"))
    try:
        block = cls(dim, hidden, factory, inplace=inplace) if inplace else cls(dim, hidden, factory)
    except Exception as err:
        return None, _raised(err)
    return block, None


@observation("sizes")
def sizes(sub):
    return list(_sizes(sub))


@observation("blocks")
def blocks(sub):
    # Per case: the block's layers and parameters, and its outputs on a seeded batch.
    dim, _ = _sizes(sub)
    sub.module_class("Block")
    found = {}
    for name, factory, inplace in CASES:
        block, raised = _block(sub, factory, inplace)
        found[name] = {"init_raised": raised} if raised else describe_module(block, inputs={"x": (4, dim)})
    return found


@observation("caller_input")
def caller_input(sub):
    # With inplace=True: is the caller's tensor the same after the call, and the output's values.
    dim, _ = _sizes(sub)
    found = {}
    for name, factory, inplace in CASES:
        if not inplace:
            continue
        block, raised = _block(sub, factory, inplace)
        if raised:
            found[name] = {"init_raised": raised}
            continue
        x = sub.inputs.randn("caller", 4, dim)
        kept = x.clone()
        with torch.no_grad():
            for i, p in enumerate(block.parameters()):
                p.copy_(sub.inputs.fill(f"caller:param:{i}", *p.shape, bound=0.5))
            try:
                out = block(x)
            except Exception as err:
                found[name] = {"forward_raised": _raised(err)}
                continue
        found[name] = {"x_unchanged": bool(torch.equal(x, kept)), "output": out}
    return found


@observation("act2_in_place")
def act2_in_place(sub):
    # Whether act2's output shares fc1's output memory (the block ran act2 in place).
    dim, _ = _sizes(sub)
    found = {}
    for name, factory, inplace in CASES:
        if name not in ("ReLU", "ReLU, inplace=True", "SiLU, inplace=True"):
            continue
        block, raised = _block(sub, factory, inplace)
        if raised:
            found[name] = None
            continue
        seen = {}
        handles = []
        for part in ("fc1", "act2"):
            module = getattr(block, part, None)
            if isinstance(module, nn.Module):
                handles.append(
                    module.register_forward_hook(
                        lambda m, a, out, part=part, seen=seen: seen.setdefault(part, out)
                    )
                )
        with torch.no_grad():
            try:
                block(sub.inputs.randn("alias", 2, dim))
            except Exception:
                pass  # blocks: the error is reported there
        for handle in handles:
            handle.remove()
        fc1, act2 = seen.get("fc1"), seen.get("act2")
        found[name] = None if fc1 is None or act2 is None else bool(fc1.data_ptr() == act2.data_ptr())
    return found


@observation("input_grad")
def input_grad(sub):
    # With inplace=True: the gradient of the output's sum with respect to a leaf input.
    dim, _ = _sizes(sub)
    found = {}
    for name, factory, inplace in CASES:
        if not inplace:
            continue
        block, raised = _block(sub, factory, inplace)
        if raised:
            found[name] = {"init_raised": raised}
            continue
        with torch.no_grad():
            for i, p in enumerate(block.parameters()):
                p.copy_(sub.inputs.fill(f"grad:param:{i}", *p.shape, bound=0.5))
        x = sub.inputs.randn("grad", 3, dim).requires_grad_()
        try:
            block(x).sum().backward()
        except Exception as err:
            found[name] = {"raised": _raised(err)}
            continue
        found[name] = {"grad": x.grad}
    return found


def _kind(value):
    if isinstance(value, type):
        return f"class {value.__name__}"
    if isinstance(value, nn.Module):
        return f"module {type(value).__name__}"
    return "missing" if value is None else type(value).__name__


@observation("attrs")
def attrs(sub):
    # What `act1` and `act2` hold in a new Block(dim, hidden, nn.ReLU), and whether
    # Block(dim, hidden, nn.PReLU) puts one and the same module in both places.
    found = {}
    for name, factory in (("ReLU", nn.ReLU), ("PReLU", nn.PReLU)):
        block, raised = _block(sub, factory, False)
        if raised:
            return {"init_raised": raised, "factory": name}
        act1, act2 = getattr(block, "act1", None), getattr(block, "act2", None)
        found[name] = {
            "act1": _kind(act1),
            "act2": _kind(act2),
            "same_object": act1 is not None and act1 is act2,
        }
    return found
