"""Observations for the warm-up + cosine exercise (runs in the sandbox after the program; holds no answers).

`make_scheduler` is called on a fresh optimizer with two param groups, with warm-up length, total
length and learning rates drawn from the submission's seed; the schedule is then stepped in the
right order, and the learning rate of each group at each step is reported. `train_one_epoch` is
called for two epochs with a scheduler of the probe's own whose learning rate changes at every
step; the learning rate each `optimizer.step()` used, how often the scheduler was stepped, the
warnings PyTorch gave and the parameters at the end are reported.
"""

import warnings

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from questlab.grading.sandbox import observation


def _error(exc):
    return f"{type(exc).__name__}: {exc}"[:300]


def _warnings(caught):
    return [str(w.message)[:300] for w in caught][:5]


@observation("schedule")
def schedule(sub):
    make = sub.function("make_scheduler")
    warmup = 2 + int(sub.inputs.randint("warmup", 0, 5, (1,)))
    total = warmup + 6 + int(sub.inputs.randint("decay", 0, 15, (1,)))
    base = round(0.01 + 0.5 * float(sub.inputs.rand("lr", 1)), 4)
    first, second = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.SGD([{"params": [first]}, {"params": [second], "lr": base / 10}], lr=base)
    data = {"warmup": warmup, "total": total, "base": base, "raised": None}
    rows = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            scheduler = make(optimizer, warmup, total)
        except Exception as exc:
            return {**data, "raised": _error(exc), "in": f"make_scheduler(optimizer, {warmup}, {total})"}
        data["class"] = type(scheduler).__name__
        if not isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
            return data
        for step in range(total):
            rows.append([float(group["lr"]) for group in optimizer.param_groups])
            for p in (first, second):
                p.grad = torch.zeros(2)
            optimizer.step()
            try:
                scheduler.step()
            except Exception as exc:
                return {**data, "raised": _error(exc), "in": f"scheduler.step() number {step + 1}"}
    return {**data, "lrs": torch.tensor(rows, dtype=torch.float64), "warnings": _warnings(caught)}


@observation("training")
def training(sub):
    train = sub.function("train_one_epoch")
    X, y = sub.inputs.randn("X", 24, 3), sub.inputs.randn("y", 24, 1)
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=False)
    model = nn.Linear(3, 1)
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(sub.inputs.fill(f"param:{i}", *p.shape, bound=0.5))
    base = round(0.05 + 0.2 * float(sub.inputs.rand("train_lr", 1)), 4)
    gamma = round(0.5 + 0.4 * float(sub.inputs.rand("gamma", 1)), 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=base)
    # Not the exercise's schedule: any schedule whose learning rate changes at every step shows
    # where and how often the loop steps it.
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=gamma)
    used = []
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: used.append(float(opt.param_groups[0]["lr"])))
    data = {"batches": len(loader), "epochs": 2, "base": base, "gamma": gamma, "raised": None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            try:
                train(model, loader, nn.MSELoss(), optimizer, scheduler)
            except Exception as exc:
                return {**data, "raised": _error(exc)}
    return {
        **data,
        "used": used[:50],
        "scheduler_steps": int(scheduler.last_epoch),
        "warnings": _warnings(caught),
        "parameters": torch.cat([p.detach().reshape(-1) for p in model.parameters()]),
    }
