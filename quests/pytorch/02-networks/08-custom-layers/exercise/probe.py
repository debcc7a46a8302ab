"""Observations for the MyLayerNorm exercise (runs in the sandbox after the program; holds no answers)."""

import torch

from questlab.grading.sandbox import describe_module, observation


def width(sub):
    # A feature count the program cannot guess (5 to 10), so a hard-coded 8 shows.
    return 5 + sub.inputs.seed_for("normalized_shape") % 6


def call(model, x):
    # What model(x) does: its output shape, or the exception it raised. The message is kept only
    # for a ValueError (the one the exercise asks for), so other errors compare by type alone.
    try:
        with torch.no_grad():
            out = model(x)
    except Exception as err:
        message = str(err)[:300] if isinstance(err, ValueError) else None
        return {"shape": list(x.shape), "raised": type(err).__name__, "message": message, "out": None}
    shape = list(out.shape) if isinstance(out, torch.Tensor) else None
    return {"shape": list(x.shape), "raised": None, "message": None, "out": shape}


@observation("fresh")
def fresh(sub):
    # A new MyLayerNorm(n): what is registered where.
    return describe_module(sub.model("MyLayerNorm", width(sub)))


@observation("printed_as")
def printed_as(sub):
    # How print() shows a new MyLayerNorm(n) and a MyLayerNorm(n, eps=0.5).
    n = width(sub)
    return {
        "default": repr(sub.model("MyLayerNorm", n))[:300],
        "eps": repr(sub.model("MyLayerNorm", n, eps=0.5))[:300],
    }


@observation("initial")
def initial(sub):
    # The starting values of weight and bias of a new MyLayerNorm(n), whatever kind they are.
    model = sub.model("MyLayerNorm", width(sub))
    found = {}
    for name in ("weight", "bias"):
        value = getattr(model, name, None)
        found[name] = value.detach().clone() if isinstance(value, torch.Tensor) else None
    return found


@observation("forward")
def forward(sub):
    # MyLayerNorm(n) with seeded weight and bias, on seeded inputs of several shapes.
    # Wrapped in a dict: plain tensors are then diagnosed by the parameters check alone.
    n = width(sub)
    inputs = {"rows": (6, n), "sequence": (2, 3, n), "one_row": (1, n), "vector": (n,)}
    return {"module": describe_module(sub.model("MyLayerNorm", n), inputs=inputs)}


@observation("custom_eps")
def custom_eps(sub):
    # MyLayerNorm(n, eps=0.5): a large eps, so where eps goes and whether it is used shows.
    n = width(sub)
    return {"module": describe_module(sub.model("MyLayerNorm", n, eps=0.5), inputs={"rows": (5, n)})}


@observation("small_variance")
def small_variance(sub):
    # Rows whose values barely differ (variance near eps), with seeded weight and bias set by name.
    n = width(sub)
    model = sub.model("MyLayerNorm", n)
    with torch.no_grad():
        for name in ("weight", "bias"):
            value = getattr(model, name, None)
            if isinstance(value, torch.Tensor) and value.shape == (n,):
                value.copy_(sub.inputs.randn(name, n))
        return model(sub.inputs.randn("x", 4, n) * 1e-3)


@observation("wrong_shape")
def wrong_shape(sub):
    # MyLayerNorm(n) called on inputs whose last dimension is wrong: too large, and 1 (which broadcasts).
    n = width(sub)
    model = sub.model("MyLayerNorm", n)
    bigger = n + 1 + sub.inputs.seed_for("bigger") % 3
    return {
        "n": n,
        "cases": [
            call(model, sub.inputs.randn("wide", 4, bigger)),
            call(model, sub.inputs.randn("narrow", 3, 1)),
        ],
    }
