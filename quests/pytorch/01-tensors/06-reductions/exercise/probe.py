"""Observations for the reductions exercise (runs in the sandbox after the program; holds no answers)."""

from questlab.grading.sandbox import observation


def attempt(func, *args):
    # A call that raises is reported by its error alone, without a line number, so the
    # same mistake looks the same in every program that makes it.
    try:
        return func(*args)
    except Exception as exc:
        return {"raised": type(exc).__name__, "message": str(exc)[:300]}


def batch(sub):
    return sub.inputs.randn("batch", 5, 4) * 3          # (batch, classes), batch != classes


def single(sub):
    return sub.inputs.randn("single", 1, 6)              # a batch of one sample


def sequence(sub):
    return sub.inputs.randn("sequence", 2, 3, 5)         # (batch, seq, classes)


def large(sub):
    # Logits around 1000, and one class about 300 below the rest in every row:
    # exp overflows without a shift, and that class's probability underflows to 0.
    x = sub.inputs.randn("large", 4, 6) * 20 + 1000
    x[:, 0] -= 300
    return x


@observation("softmax_batch")
def softmax_batch(sub):
    return attempt(sub.function("softmax"), batch(sub))


@observation("softmax_single")
def softmax_single(sub):
    return attempt(sub.function("softmax"), single(sub))


@observation("softmax_sequence")
def softmax_sequence(sub):
    return attempt(sub.function("softmax"), sequence(sub))


@observation("softmax_large")
def softmax_large(sub):
    return attempt(sub.function("softmax"), large(sub))


@observation("log_softmax_batch")
def log_softmax_batch(sub):
    return attempt(sub.function("log_softmax"), batch(sub))


@observation("log_softmax_sequence")
def log_softmax_sequence(sub):
    return attempt(sub.function("log_softmax"), sequence(sub))


@observation("log_softmax_large")
def log_softmax_large(sub):
    return attempt(sub.function("log_softmax"), large(sub))
