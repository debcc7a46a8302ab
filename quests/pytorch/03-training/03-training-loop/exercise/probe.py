"""Observations for the training-loop exercise (runs in the sandbox after the program; holds no answers).

The learner's `train_one_epoch` is called on a small model, data and learning rate built here
from the submission's seed (batches of 20, 20 and 10 samples, in a fixed order). What it did is
traced with PyTorch's own hooks: the model's forward, the loss, the backward pass reaching the
first weight (and whether old gradients were still there), and each optimizer step.
"""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from questlab.grading.sandbox import observation


def _setup(sub, lr):
    """A fresh model in eval mode, its loader, loss and SGD optimizer, all drawn from the seed."""
    X = sub.inputs.randn("X", 50, 2)
    y = (X[:, 0] * X[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(sub.inputs.fill(f"param:{i}", *p.shape, bound=0.7))
    model.eval()  # the outer code may have left it so; train_one_epoch has to switch back
    loader = DataLoader(TensorDataset(X, y), batch_size=20, shuffle=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    return model, loader, nn.CrossEntropyLoss(), optimizer


def _returned(value):
    """A returned average: a float, or what else it is (a tensor's value and whether it holds a graph)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"kind": type(value).__name__, "value": float(value)}
    if isinstance(value, torch.Tensor):
        number = float(value.detach().reshape(-1)[0]) if value.numel() else None
        return {"kind": "Tensor", "value": number, "requires_grad": bool(value.requires_grad)}
    return {"kind": type(value).__name__}


@observation("epoch")
def epoch(sub):
    train = sub.function("train_one_epoch")
    lr = round(0.05 + 0.45 * float(sub.inputs.rand("lr", 1)), 4)
    model, loader, loss_fn, optimizer = _setup(sub, lr)
    events = []
    model.register_forward_pre_hook(lambda module, args: events.append("forward"))
    loss_fn.register_forward_hook(lambda module, args, out: events.append("loss"))
    first = model[0].weight

    def backward(grad):  # runs before the new gradient is added to first.grad
        stale = first.grad is not None and bool(first.grad.any())
        events.append("backward (old gradients still in .grad)" if stale else "backward")

    first.register_hook(backward)
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: events.append("step"))
    returned = _returned(train(model, loader, loss_fn, optimizer))
    return {
        "lr": lr,
        "batches": len(loader),
        "returned": returned,
        "training": bool(model.training),
        "events": events[:60],
        "parameters": torch.cat([p.detach().reshape(-1) for p in model.parameters()]),
    }


@observation("frozen")
def frozen(sub):
    # lr = 0: the model does not change, so the returned average is over one fixed model.
    train = sub.function("train_one_epoch")
    model, loader, loss_fn, optimizer = _setup(sub, 0.0)
    return _returned(train(model, loader, loss_fn, optimizer))
