"""Observations for the checkpoint exercise (runs in the sandbox after the program; holds no answers).

A small model and an Adam optimizer are trained for two steps here, on data drawn from the
submission's seed, and their learning rate and epoch are seeded too. `save_checkpoint` saves
them and what it wrote is read back with `weights_only=True`; `load_checkpoint` fills fresh
objects from a checkpoint written here in the prompt's format, and from one saved with the model
wrapped in `nn.DataParallel` (keys prefixed `module.`); and a checkpoint that carries an object
whose unpickling calls `print` shows whether `load_checkpoint` runs such code.
"""

import contextlib
import io

import torch
from torch import nn

from questlab.grading.sandbox import observation

MARK = "a checkpoint ran code while loading"


class _RunsCode:
    """Pickled as a call to print(MARK): loading it runs that call, unless pickle refuses it."""

    def __reduce__(self):
        return (print, (MARK,))


def _make(sub, name):
    torch.manual_seed(sub.inputs.seed_for(name))
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    return model, torch.optim.Adam(model.parameters(), lr=0.01)


def _trained(sub):
    """A model and an Adam optimizer with state, a lowered learning rate and an epoch (all seeded)."""
    model, optimizer = _make(sub, "trained")
    X, y = sub.inputs.randn("X", 16, 4), sub.inputs.randint("y", 0, 2, (16,))
    for _ in range(2):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        optimizer.step()
    optimizer.param_groups[0]["lr"] = round(0.001 + 0.008 * float(sub.inputs.rand("lr", 1)), 5)
    epoch = int(sub.inputs.randint("epoch", 2, 60, (1,)))
    return model, optimizer, epoch


def _call(func, *args):
    try:
        return func(*args), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]


def _plain(value):
    """A value as plain data: numbers and strings as they are, anything else by its type."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return {"kind": "Tensor", "value": float(value)}
    return {"kind": type(value).__name__}


def _tensors(state):
    """``{key: tensor}`` of a model state (other values by their type)."""
    if not isinstance(state, dict):
        return {"kind": type(state).__name__}
    return {str(k): v.detach().clone() if isinstance(v, torch.Tensor) else _plain(v) for k, v in state.items()}


def _optimizer_state(state):
    """An optimizer ``state_dict()``: each group's lr and parameter numbers, and each parameter's state."""
    if not isinstance(state, dict) or not {"state", "param_groups"} <= set(state):
        return {"kind": type(state).__name__, "keys": sorted(map(str, state)) if isinstance(state, dict) else None}
    return {
        "kind": "optimizer state",
        "param_groups": [
            {"lr": _plain(g.get("lr")), "params": [_plain(i) for i in g.get("params", [])]}
            for g in state["param_groups"]
        ],
        "state": {str(i): _tensors(entries) for i, entries in state["state"].items()},
    }


def _checkpoint(model, optimizer, epoch, **extra):
    """A checkpoint in the prompt's format, written here, rewound."""
    buf = io.BytesIO()
    torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(), **extra}, buf)
    buf.seek(0)
    return buf


@observation("saved")
def saved(sub):
    save = sub.function("save_checkpoint")
    model, optimizer, epoch = _trained(sub)
    buf, raised = _call(save, model, optimizer, epoch)
    if raised:
        return {"raised": raised}
    if not (hasattr(buf, "read") and hasattr(buf, "seek") and hasattr(buf, "tell")):
        return {"raised": None, "kind": type(buf).__name__}
    position = buf.tell()
    if hasattr(buf, "getvalue"):
        data = buf.getvalue()
    else:
        buf.seek(0)
        data = buf.read()
    out = {"raised": None, "kind": "file", "size": len(data), "position": position, "epoch_saved": epoch}
    try:
        checkpoint = torch.load(io.BytesIO(data), weights_only=True)
    except Exception as exc:
        return {**out, "load_error": type(exc).__name__}
    if not isinstance(checkpoint, dict):
        return {**out, "load_error": None, "contents": {"kind": type(checkpoint).__name__}}
    return {
        **out,
        "load_error": None,
        "contents": {
            "kind": "dict",
            "keys": sorted(map(str, checkpoint)),
            "epoch": _plain(checkpoint.get("epoch")),
            "model": _tensors(checkpoint.get("model")),
            "optimizer": _optimizer_state(checkpoint.get("optimizer")),
        },
    }


@observation("loaded")
def loaded(sub):
    load = sub.function("load_checkpoint")
    model, optimizer, epoch = _trained(sub)
    fresh_model, fresh_optimizer = _make(sub, "fresh")
    returned, raised = _call(load, _checkpoint(model, optimizer, epoch), fresh_model, fresh_optimizer)
    return {
        "raised": raised,
        "epoch_saved": epoch,
        "returned": _plain(returned),
        "model": _tensors(fresh_model.state_dict()),
        "optimizer": _optimizer_state(fresh_optimizer.state_dict()),
    }


@observation("from_parallel")
def from_parallel(sub):
    # A checkpoint saved from the model wrapped in nn.DataParallel: every model key starts with "module.".
    load = sub.function("load_checkpoint")
    model, optimizer, epoch = _trained(sub)
    fresh_model, fresh_optimizer = _make(sub, "fresh")
    buf = _checkpoint(nn.DataParallel(model), optimizer, epoch)
    returned, raised = _call(load, buf, fresh_model, fresh_optimizer)
    return {"raised": raised, "returned": _plain(returned), "model": _tensors(fresh_model.state_dict())}


@observation("untrusted")
def untrusted(sub):
    # A checkpoint from somewhere else: besides the usual entries it holds an object that calls print.
    load = sub.function("load_checkpoint")
    model, optimizer, epoch = _trained(sub)
    fresh_model, fresh_optimizer = _make(sub, "fresh")
    buf = _checkpoint(model, optimizer, epoch, note=_RunsCode())
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        _, raised = _call(load, buf, fresh_model, fresh_optimizer)
    return {"ran_code": MARK in printed.getvalue(), "raised": raised.split(":")[0] if raised else None}
