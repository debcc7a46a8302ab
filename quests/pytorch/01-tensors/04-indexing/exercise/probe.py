"""Observations for the class-scores exercise (runs in the sandbox after the program; holds no answers)."""

from questlab.grading.sandbox import observation


def call(sub, name, *args):
    # The function's return value, or the exception it raised (type and message, no line
    # number, so that the same mistake reads the same wherever it is written).
    func = sub.function(name)
    try:
        return {"value": func(*args)}
    except Exception as err:
        return {"raised": type(err).__name__, "message": str(err)[:300]}


def batch(sub):
    # Seeded scores (N, C) and labels (N,), with more rows than classes.
    n = 6 + sub.inputs.seed_for("n") % 5
    c = 3 + sub.inputs.seed_for("c") % 3
    return sub.inputs.randn("scores", n, c), sub.inputs.randint("labels", 0, c, (n,))


@observation("true_class_scores")
def true_class_scores(sub):
    return call(sub, "true_class_scores", *batch(sub))


@observation("rows_of_class")
def rows_of_class(sub):
    scores, labels = batch(sub)
    k = int(labels[sub.inputs.seed_for("k") % len(labels)])  # a class that occurs at least once
    return call(sub, "rows_of_class", scores, labels, k)


@observation("count_confident")
def count_confident(sub):
    scores, labels = batch(sub)
    threshold = (sub.inputs.seed_for("threshold") % 100) / 100 - 0.5
    return call(sub, "count_confident", scores, labels, threshold)
