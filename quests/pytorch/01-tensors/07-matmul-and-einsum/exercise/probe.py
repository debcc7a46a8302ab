"""Observations for the matmul-and-einsum exercise (runs in the sandbox after the program; holds no answers)."""

from questlab.grading.sandbox import observation


def attempt(func, *args):
    # A call that raises is reported by its error alone, without a line number, so the
    # same mistake looks the same in every program that makes it.
    try:
        return func(*args)
    except Exception as exc:
        return {"raised": type(exc).__name__, "message": str(exc)[:300]}


# Three kinds of input for each function:
#   batched: (B, T, D) and (B, S, D) with B, T, S, D all different;
#   heads:   (B, H, T, D) and (B, H, S, D), one more leading dim;
#   cube:    every dim the same size, where a wrong transpose or * raises no error.
def batched(sub):
    return sub.inputs.randn("q", 2, 5, 4), sub.inputs.randn("k", 2, 3, 4)


def heads(sub):
    return sub.inputs.randn("q_heads", 2, 3, 5, 4), sub.inputs.randn("k_heads", 2, 3, 6, 4)


def cube(sub):
    return sub.inputs.randn("q_cube", 3, 3, 3), sub.inputs.randn("k_cube", 3, 3, 3)


@observation("matmul_batched")
def matmul_batched(sub):
    return attempt(sub.function("scores_matmul"), *batched(sub))


@observation("matmul_heads")
def matmul_heads(sub):
    return attempt(sub.function("scores_matmul"), *heads(sub))


@observation("matmul_cube")
def matmul_cube(sub):
    return attempt(sub.function("scores_matmul"), *cube(sub))


@observation("einsum_batched")
def einsum_batched(sub):
    return attempt(sub.function("scores_einsum"), *batched(sub))


@observation("einsum_heads")
def einsum_heads(sub):
    return attempt(sub.function("scores_einsum"), *heads(sub))


@observation("einsum_cube")
def einsum_cube(sub):
    return attempt(sub.function("scores_einsum"), *cube(sub))
