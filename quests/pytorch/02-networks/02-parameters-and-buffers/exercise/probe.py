"""Observations for the FeatureScaler exercise (runs in the sandbox after the program; holds no answers)."""

import io

import torch
from torch import nn

from questlab.grading.sandbox import describe_module, observation

NAMES = ("gain", "shift", "mean", "std", "eps")


def width(sub):
    # A feature count the program cannot guess (5 to 8), so a hard-coded 4 shows.
    return 5 + sub.inputs.seed_for("num_features") % 4


def set_values(model, sub, n):
    # Seeded values for the four tensors, by attribute name: a parameter, a buffer or a plain
    # tensor all take them, so the formula is compared whatever kind each one is.
    values = {
        "gain": sub.inputs.randn("gain", n),
        "shift": sub.inputs.randn("shift", n),
        "mean": sub.inputs.randn("mean", n),
        "std": sub.inputs.rand("std", n) + 0.5,
    }
    with torch.no_grad():
        for name, value in values.items():
            getattr(model, name).copy_(value)


def run(model, x):
    with torch.no_grad():
        return model(x)


@observation("fresh")
def fresh(sub):
    # A new FeatureScaler(4): what is registered where.
    return describe_module(sub.model("FeatureScaler", 4))


@observation("initial")
def initial(sub):
    # The starting value of each tensor of a new FeatureScaler(4), whatever kind it is.
    model = sub.model("FeatureScaler", 4)
    found = {}
    for name in NAMES:
        value = getattr(model, name, None)
        found[name] = value.detach().clone() if isinstance(value, torch.Tensor) else None
    return found


@observation("forward")
def forward(sub):
    # FeatureScaler(n) with seeded gain, shift, mean and std, on a seeded batch.
    n = width(sub)
    model = sub.model("FeatureScaler", n)
    set_values(model, sub, n)
    return {"n": n, "out": run(model, sub.inputs.randn("x", 6, n))}


@observation("state")
def state(sub):
    # state_dict keys; a save/load round trip into a new model; which tensors follow .to(float64).
    n = width(sub)
    model = sub.model("FeatureScaler", n)
    set_values(model, sub, n)
    x = sub.inputs.randn("x", 6, n)
    found = {"n": n, "keys": list(model.state_dict().keys()), "before": run(model, x)}
    buffer = io.BytesIO()
    try:
        torch.save(model.state_dict(), buffer)
        buffer.seek(0)
        loaded_state = torch.load(buffer, weights_only=True)
    except ImportError:  # the serializer could not be imported here: load the state as it is
        loaded_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    loaded = sub.model("FeatureScaler", n)
    try:
        loaded.load_state_dict(loaded_state)
        found["after"] = run(loaded, x)
        found["load_error"] = None
    except Exception as err:
        found["after"] = None
        found["load_error"] = f"{type(err).__name__}: {err}"[:300]
    moved = sub.model("FeatureScaler", n).to(torch.float64)
    found["dtypes"] = {
        name: str(getattr(moved, name).dtype) if isinstance(getattr(moved, name, None), torch.Tensor) else None
        for name in NAMES
    }
    return found


@observation("count")
def count(sub):
    # count_trainable on a small seeded network, with more and more of it frozen.
    func = sub.function("count_trainable")
    a, b, c = (2 + sub.inputs.seed_for(f"size{i}") % 6 for i in range(3))
    counts = []
    for frozen in ((), ("0.weight", "0.bias"), ("0.weight", "2.bias"), ("0.weight", "0.bias", "2.weight", "2.bias")):
        net = nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, c))
        for name, p in net.named_parameters():
            if name in frozen:
                p.requires_grad_(False)
        counts.append(func(net))
    return {"sizes": [a, b, c], "counts": counts}


@observation("scaler")
def scaler(sub):
    # The `scaler` object the program made, after it froze `shift`.
    return describe_module(sub.instance("scaler", cls="FeatureScaler"))
