"""Observations for the evaluate exercise (runs in the sandbox after the program; holds no answers).

The learner's `evaluate` is called on a small classifier with BatchNorm and Dropout whose weights
and running statistics are drawn from the submission's seed, over three seeded batches whose last
one is smaller. PyTorch's own hooks record, for each forward pass, whether any layer was in
training mode and whether autograd recorded a graph. Afterwards the probe reports what was
returned, the model's mode, which parameters hold a `.grad`, and BatchNorm's running statistics.
The call is made once on a model in training mode and once on a model in eval mode.
"""

import torch
from torch import nn

from questlab.grading.sandbox import observation

FEATURES, CLASSES = 4, 3


def _model(sub, name):
    """A classifier with BatchNorm and Dropout; seeded weights and running statistics."""
    model = nn.Sequential(
        nn.Linear(FEATURES, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, CLASSES)
    )
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(sub.inputs.fill(f"{name}:param:{i}", *p.shape, bound=0.8))
        norm = model[1]
        norm.running_mean.copy_(0.3 * sub.inputs.randn(f"{name}:running_mean", 16))
        norm.running_var.copy_(0.5 + sub.inputs.rand(f"{name}:running_var", 16))
        norm.num_batches_tracked.fill_(100)
    return model


def _batches(sub, name):
    """Batches of 16, 16 and a smaller last one (3 to 9 samples), inputs and class indices seeded."""
    last = int(sub.inputs.randint(f"{name}:last", 3, 10, (1,)))
    return [
        (
            sub.inputs.randn(f"{name}:x:{i}", n, FEATURES),
            sub.inputs.randint(f"{name}:y:{i}", 0, CLASSES, (n,)),
        )
        for i, n in enumerate((16, 16, last))
    ]


def _value(value):
    """A returned number: a float or int as it is, a tensor by its value and whether it holds a graph."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"kind": type(value).__name__, "value": float(value)}
    if isinstance(value, torch.Tensor):
        number = float(value.detach().reshape(-1)[0]) if value.numel() == 1 else None
        return {"kind": "Tensor", "value": number, "requires_grad": bool(value.requires_grad)}
    return {"kind": type(value).__name__}


def _returned(result):
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return {"kind": "pair", "loss": _value(result[0]), "accuracy": _value(result[1])}
    return {
        "kind": type(result).__name__,
        "length": len(result) if isinstance(result, (tuple, list)) else None,
    }


def _run(sub, name, training):
    evaluate = sub.function("evaluate")
    model, batches = _model(sub, name), _batches(sub, name)
    model.train(training)
    norm = model[1]
    stats_before = [norm.running_mean.clone(), norm.running_var.clone(), norm.num_batches_tracked.clone()]
    forwards = []

    def record(module, args, output):
        forwards.append(
            {
                "rows": len(args[0]),
                "training": any(m.training for m in module.modules()),
                "graph": bool(getattr(output, "requires_grad", False)),
            }
        )

    model.register_forward_hook(record)
    torch.manual_seed(sub.inputs.seed_for(f"{name}:dropout"))  # Dropout in training mode draws from here
    try:
        returned, raised = _returned(evaluate(model, batches, nn.CrossEntropyLoss())), None
    except Exception as exc:
        returned, raised = None, f"{type(exc).__name__}: {exc}"[:300]
    stats_after = [norm.running_mean, norm.running_var, norm.num_batches_tracked]
    return {
        "raised": raised,
        "returned": returned,
        "sizes": [len(xb) for xb, _ in batches],
        "forwards": forwards[:20],
        "training_before": training,
        "training_after": [m.training for m in model.modules()],
        "grads": [n for n, p in model.named_parameters() if p.grad is not None],
        "stats_changed": not all(torch.equal(a, b) for a, b in zip(stats_before, stats_after)),
        "batches_tracked": int(norm.num_batches_tracked),
    }


@observation("from_train")
def from_train(sub):
    # Called the way a training loop calls it: on a model in training mode.
    return _run(sub, "from_train", True)


@observation("from_eval")
def from_eval(sub):
    # Called on a model that is already in eval mode: it must stay so.
    return _run(sub, "from_eval", False)
