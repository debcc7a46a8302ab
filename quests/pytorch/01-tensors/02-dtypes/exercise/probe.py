"""Observations for the image preprocessing exercise (runs in the sandbox after the program; holds no answers)."""

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


def image(sub, name):
    # A random uint8 image of a seeded shape, 0..255.
    h = 4 + sub.inputs.seed_for("h") % 3
    w = 5 + sub.inputs.seed_for("w") % 3
    return sub.inputs.randint(name, 0, 256, (h, w)).to(torch.uint8)


@observation("blend")
def blend(sub):
    a, b = image(sub, "a"), image(sub, "b")
    # One pixel pair whose sum passes 255 and one whose sum is odd, whatever the seed.
    a[0, 0], b[0, 0] = 250, 10
    a[0, 1], b[0, 1] = 3, 4
    seen = call(sub, "blend", a.clone(), b.clone())
    seen["inputs"] = {"a": a, "b": b}  # so that a wrong pixel can be shown with its inputs
    return seen


@observation("to_unit")
def to_unit(sub):
    img = image(sub, "img")
    img[0, 0], img[0, 1] = 0, 255
    seen = call(sub, "to_unit", img.clone())
    seen["inputs"] = {"img": img}
    return seen
