"""Observations for the sensor-log exercise (runs in the sandbox after the program; holds no answers)."""

import torch

from questlab.grading.sandbox import observation


def call(sub, name, *args):
    # The function's return value, or the exception it raised (type and message, no line
    # number, so that the same mistake reads the same wherever it is written).
    func = sub.function(name)
    try:
        return {"value": func(*args)}
    except Exception as err:
        return {"raised": type(err).__name__, "message": str(err)[:300]}


def celsius(sub):
    # A fresh float64 NumPy array of a seeded shape, around 10 °C.
    rows = 2 + sub.inputs.seed_for("rows") % 3
    return (sub.inputs.randn("celsius", rows, 4).double() * 15 + 10).numpy()


@observation("kelvin")
def kelvin(sub):
    return call(sub, "to_kelvin", celsius(sub))


@observation("celsius_after")
def celsius_after(sub):
    # The caller's array after the call: an in-place change through shared memory shows here.
    array = celsius(sub)
    call(sub, "to_kelvin", array)
    return array


@observation("timeline")
def timeline(sub):
    n = 3 + sub.inputs.seed_for("n") % 8
    duration = 0.5 + (sub.inputs.seed_for("duration") % 950) / 100
    return call(sub, "timeline", n, duration)


def noise_seed(sub, name="noise"):
    return sub.inputs.seed_for(name) % 2**31


@observation("noise")
def noise(sub):
    return call(sub, "noise_like", sub.inputs.randn("x", 3, 4).double(), noise_seed(sub))


@observation("noise_repeat")
def noise_repeat(sub):
    # Two calls with one seed: whether they return equal tensors (None unless both are tensors).
    x = sub.inputs.randn("x", 3, 4).double()
    first = call(sub, "noise_like", x, noise_seed(sub)).get("value")
    second = call(sub, "noise_like", x, noise_seed(sub)).get("value")
    if not (isinstance(first, torch.Tensor) and isinstance(second, torch.Tensor)):
        return None
    return first.shape == second.shape and bool(torch.equal(first, second))


@observation("noise_stats")
def noise_stats(sub):
    # Mean, standard deviation and minimum of 4,096 draws (the draws themselves stay here);
    # the type's name when the function returned something else.
    out = call(sub, "noise_like", torch.zeros(64, 64), noise_seed(sub, "stats"))
    if "raised" in out:
        return out
    value = out["value"]
    if not (isinstance(value, torch.Tensor) and value.is_floating_point() and value.numel() > 1):
        return {"value": type(value).__name__}
    value = value.detach().double()
    return {"value": {"mean": float(value.mean()), "std": float(value.std()), "min": float(value.min())}}
