"""Observations for the image-layout exercise (runs in the sandbox after the program; holds no answers)."""

from questlab.grading.sandbox import observation


def call(sub, name, *args):
    # The function's return value, or the exception it raised (type and message, no line
    # number, so that the same mistake reads the same wherever it is written).
    func = sub.function(name)
    try:
        return {"value": func(*args)}
    except Exception as err:
        return {"raised": type(err).__name__, "message": str(err)[:300]}


def sizes(sub):
    # A seeded batch size, 3 channels, and a height and width that always differ.
    n = 2 + sub.inputs.seed_for("n") % 3
    h = 2 + sub.inputs.seed_for("h") % 3
    w = h + 1 + sub.inputs.seed_for("w") % 2
    return n, 3, h, w


@observation("to_nhwc")
def to_nhwc(sub):
    n, c, h, w = sizes(sub)
    return call(sub, "to_nhwc", sub.inputs.randn("nchw", n, c, h, w))


@observation("to_nhwc_one")
def to_nhwc_one(sub):
    _, c, h, w = sizes(sub)
    return call(sub, "to_nhwc", sub.inputs.randn("one", 1, c, h, w))


@observation("to_nchw")
def to_nchw(sub):
    n, c, h, w = sizes(sub)
    return call(sub, "to_nchw", sub.inputs.randn("nhwc", n, h, w, c))


@observation("flatten")
def flatten(sub):
    n, c, h, w = sizes(sub)
    return call(sub, "flatten_per_sample", sub.inputs.randn("nchw", n, c, h, w))


@observation("flatten_strided")
def flatten_strided(sub):
    # A non-contiguous input, such as any tensor after transpose or permute.
    n, c, h, w = sizes(sub)
    return call(sub, "flatten_per_sample", sub.inputs.randn("strided", n, w, h, c).transpose(1, 2))


@observation("flatten_one")
def flatten_one(sub):
    _, c, h, w = sizes(sub)
    return call(sub, "flatten_per_sample", sub.inputs.randn("one", 1, c, h, w))
