"""Observations for the activation-statistics exercise (runs in the sandbox after the program; holds no answers).

`activation_stats` is called on two models built here from the submission's seed: an
nn.Sequential, and a nested model with an in-place ReLU and a Tanh that is not to be hooked.
Before each call the probe puts hooks of its own on the model, as other code might have done;
it reports what the call returned, how often those hooks ran, which hooks are left on the model
afterwards, whether calling the model again changes the returned statistics, and the model's
output after the call.
"""

import torch
import torch.nn.modules.module as module_globals
from torch import nn

from questlab.grading.sandbox import observation

HOOK_DICTS = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks")
GLOBAL_DICTS = (
    "_global_forward_pre_hooks",
    "_global_forward_hooks",
    "_global_backward_pre_hooks",
    "_global_backward_hooks",
)


class Nested(nn.Module):
    """Layers inside a container and at the top level, an in-place ReLU, and a Tanh (not hooked)."""

    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, hidden), nn.Tanh()
        )
        self.act = nn.ReLU()
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.head(self.act(self.body(x)))


def _sizes(sub, case, n):
    # Layer widths the program cannot guess: 3 to 8 each.
    return [3 + sub.inputs.seed_for(f"{case}:size:{i}") % 6 for i in range(n)]


def _build(sub, case):
    torch.manual_seed(sub.inputs.seed_for(f"model:{case}"))
    if case == "seq":
        a, b, c, d = _sizes(sub, case, 4)
        return nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, c), nn.ReLU(), nn.Linear(c, d)), a
    a, b, c = _sizes(sub, case, 3)
    return Nested(a, b, c), a


def _key(key):
    if isinstance(key, str):
        return key
    text = repr(key).splitlines()[0] if repr(key) else ""
    return f"<{type(key).__name__}> {text}"[:120]


def _number(value):
    """``(float or None, kind)`` of one recorded statistic."""
    kind = type(value).__name__
    if isinstance(value, bool):
        return None, kind
    if isinstance(value, (int, float)):
        return float(value), kind
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype.is_floating_point:
        return float(value.detach()), kind + (" (with grad_fn)" if value.grad_fn is not None else "")
    return None, kind


def _snapshot(stats):
    """``{"values": {name: [mean, std] or None}, "kinds": [...]}`` of a returned stats dict, or ``None``."""
    if not isinstance(stats, dict):
        return None
    values, kinds = {}, set()
    for key, pair in list(stats.items())[:50]:
        if isinstance(pair, (tuple, list)) and len(pair) == 2:
            numbers = [_number(v) for v in pair]
            kinds.update(kind for _, kind in numbers)
            got = [n for n, _ in numbers]
            values[_key(key)] = got if None not in got else None
        else:
            kinds.add(type(pair).__name__)
            values[_key(key)] = None
    return {"values": values, "kinds": sorted(kinds)}


def _leftover(model, ours):
    """``{module name: number of hooks on it that are not the probe's}`` (only names with some)."""
    left = {}
    for name, module in model.named_modules():
        n = sum(
            1
            for attr in HOOK_DICTS
            for key in getattr(module, attr, {})
            if (id(module), attr, key) not in ours
        )
        if n:
            left[name or "(the model itself)"] = n
    return left


def _case(sub, case):
    model, n_in = _build(sub, case)
    x = sub.inputs.randn(f"x:{case}", 8, n_in)
    func = sub.function("activation_stats")

    # Hooks other code put on the model before the call: they must run once and stay on.
    theirs = {"calls": 0}

    def count(module, args, output):
        theirs["calls"] += 1

    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    handles = [
        (model, "_forward_hooks", model.register_forward_hook(count)),
        (first, "_forward_pre_hooks", first.register_forward_pre_hook(lambda module, args: None)),
    ]
    ours = {(id(m), attr, h.id) for m, attr, h in handles}
    found = {"raised": None, "returned": None, "output": None, "grad_fn": None, "stats": None}
    try:
        result = func(model, x)
    except Exception as exc:
        result = None
        found["raised"] = f"{type(exc).__name__}: {exc}"[:300]
    found["calls"] = theirs["calls"]
    found["left"] = _leftover(model, ours)
    found["global_hooks"] = sum(len(getattr(module_globals, attr, {})) for attr in GLOBAL_DICTS)
    found["theirs_kept"] = all(h.id in getattr(m, attr) for m, attr, h in handles)
    if found["raised"] is None:
        found["returned"] = type(result).__name__
        if isinstance(result, (tuple, list)) and len(result) == 2:
            found["returned"] = "pair"
            output, stats = result
            if isinstance(output, torch.Tensor):
                found["output"] = output.detach().clone()
                found["grad_fn"] = output.grad_fn is not None
            else:
                found["output"] = type(output).__name__
            found["stats"] = _snapshot(stats)
            if found["stats"] is None:
                found["stats_type"] = type(stats).__name__
            # A hook left behind would record this call too.
            try:
                model(sub.inputs.randn(f"again:{case}", 8, n_in))
                found["changed"] = _snapshot(stats) != found["stats"]
            except Exception as exc:
                found["changed"] = f"{type(exc).__name__}: {exc}"[:300]
    # What the model computes after the call (hooks that stayed and change outputs show here).
    try:
        with torch.no_grad():
            found["after"] = model(x)
    except Exception as exc:
        found["after"] = f"{type(exc).__name__}: {exc}"[:300]
    for m, _, h in handles:
        h.remove()
    return found


CASES = ("seq", "nested")
_DONE = {}


def _observed(sub):
    """What each case gave, computed once per run and shared by the observations below."""
    if "cases" not in _DONE:
        sub.function("activation_stats")  # no function: every observation says so
        _DONE["cases"] = {case: _case(sub, case) for case in CASES}
    return _DONE["cases"]


def _part(sub, *keys):
    return {case: {k: found.get(k) for k in keys} for case, found in _observed(sub).items()}


# One observation per aspect, so that each check reads only what it judges.
@observation("returned")
def returned(sub):
    # Whether the call raised, and the kind of what it returned.
    return _part(sub, "raised", "returned", "stats_type")


@observation("stats")
def stats(sub):
    # The returned statistics by name, as floats, and the types they were recorded as.
    return _part(sub, "stats")


@observation("calls")
def calls(sub):
    # How often a hook already on the model ran during the call.
    return _part(sub, "calls")


@observation("hooks_left")
def hooks_left(sub):
    # Hooks on the model (and global module hooks) after the call, other than the probe's own.
    return _part(sub, "left", "global_hooks", "theirs_kept")


@observation("records")
def records(sub):
    # Whether calling the model again changed the returned statistics.
    return _part(sub, "changed")


@observation("output")
def output(sub):
    # The returned output, whether it is attached to the graph, and the model's output afterwards.
    return _part(sub, "output", "grad_fn", "after")
