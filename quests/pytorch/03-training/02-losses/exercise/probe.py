"""Observations for the losses exercise (runs in the sandbox after the program; holds no answers).

Each of the three functions is called on inputs drawn from the submission's seed, with the
predictions (or logits) requiring grad. What came back is reported (its type, shape and values)
and, when it is one number with a graph, the gradient that `backward()` leaves on the predictions.
"""

import torch

from questlab.grading.sandbox import observation


def _observe(func, scores, *rest):
    """What ``func(scores, *rest)`` returned, and the gradient of it with respect to ``scores``."""
    scores.requires_grad_(True)
    try:
        loss = func(scores, *rest)
    except Exception as exc:
        return {"raised": f"{type(exc).__name__}: {exc}"[:300]}
    if not isinstance(loss, torch.Tensor):
        number = isinstance(loss, (int, float)) and not isinstance(loss, bool)
        return {"raised": None, "kind": type(loss).__name__, "value": float(loss) if number else None}
    data = {
        "raised": None,
        "kind": "Tensor",
        "shape": list(loss.shape),
        "dtype": str(loss.dtype).removeprefix("torch."),
        "value": loss.detach().reshape(-1)[:64].double(),
        "grad": None,
        "backward": None,
    }
    if loss.numel() == 1 and loss.requires_grad:
        try:
            loss.backward()
        except Exception as exc:
            data["backward"] = f"{type(exc).__name__}: {exc}"[:300]
        else:
            data["grad"] = scores.grad
    return data


@observation("regression")
def regression(sub):
    pred = 3 * sub.inputs.randn("reg_pred", 16)
    target = 3 * sub.inputs.randn("reg_target", 16)
    return _observe(sub.function("regression_loss"), pred, target)


@observation("classification")
def classification(sub):
    # Five classes (the program's own example has four) and weights that do not sum to the batch size.
    logits = 2 * sub.inputs.randn("cls_logits", 12, 5)
    target = sub.inputs.randint("cls_target", 0, 5, (12,))
    weight = 0.2 + 1.8 * sub.inputs.rand("cls_weight", 5)
    return _observe(sub.function("classification_loss"), logits, target, weight)


@observation("binary")
def binary(sub):
    logits = 2 * sub.inputs.randn("bin_logits", 16)
    target = (sub.inputs.rand("bin_target", 16) > 0.5).float()
    # One confident false positive: a logit of 20 to 40 rounds to a probability of exactly 1.0 in
    # float32, where a loss computed from probabilities can no longer be right.
    logits[0] = 20 + 20 * sub.inputs.rand("bin_confident", 1)
    target[0] = 0.0
    return _observe(sub.function("binary_loss"), logits, target)
