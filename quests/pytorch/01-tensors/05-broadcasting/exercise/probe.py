"""Observations for the broadcasting exercise (runs in the sandbox after the program; holds no answers)."""

from questlab.grading.sandbox import observation


def attempt(func, *args):
    # A call that raises is reported by its error alone, without a line number, so the
    # same mistake looks the same in every program that makes it.
    try:
        return func(*args)
    except Exception as exc:
        return {"raised": type(exc).__name__, "message": str(exc)[:300]}


@observation("distances")
def distances(sub):
    # N != M: a swapped or missing axis changes the shape.
    return attempt(sub.function("pairwise_distances"), sub.inputs.randn("a", 5, 3), sub.inputs.randn("b", 4, 3))


@observation("distances_square")
def distances_square(sub):
    # N == M == D: here the wrong broadcast runs without an error.
    return attempt(sub.function("pairwise_distances"), sub.inputs.randn("p", 4, 4), sub.inputs.randn("q", 4, 4))


@observation("mse")
def mse(sub):
    return attempt(sub.function("mse"), sub.inputs.randn("pred", 6, 1), sub.inputs.randn("target", 6))
