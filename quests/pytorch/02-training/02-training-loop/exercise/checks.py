"""Checks for train_one_epoch: train mode, zero_grad/forward/loss/backward/step per batch, mean loss."""

import math

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from questlab.grading.api import check, expect_printed_pattern, fail

STEPS_EN = ("`optimizer.zero_grad()` → `model(xb)` → `loss_fn(pred, yb)` → `loss.backward()` → "
            "`optimizer.step()`")


def setup(lr=0.1, n=50, batch=20):
    """A small fresh problem (batches of 20, 20 and 10), independent of the learner's globals."""
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(n, 2, generator=gen)
    y = (X[:, 0] * X[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch, shuffle=False)
    return model, loader, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=lr), X, y


def train(sub, *args):
    func = sub.ns.get("train_one_epoch")
    if not callable(func):
        fail(en="Define `train_one_epoch(model, loader, loss_fn, optimizer)`.",
             ko="`train_one_epoch(model, loader, loss_fn, optimizer)`를 정의하세요.")
    return func(*args)


@check("train_mode", aspect="state")
def train_mode(sub):
    model, loader, loss_fn, optimizer, _, _ = setup()
    model.eval()
    train(sub, model, loader, loss_fn, optimizer)
    if not model.training:
        fail(en="After `train_one_epoch` the model is still in eval mode. Start the function with "
                "`model.train()`: the outer code calls `model.eval()` to measure accuracy.",
             ko="`train_one_epoch` 뒤에도 model이 eval mode입니다. 함수 첫 줄에서 `model.train()`을 "
                "호출하세요. 바깥 코드가 정확도를 잴 때 `model.eval()`을 부르기 때문입니다.")


@check("training_steps", aspect="any")
def training_steps(sub):
    model, loader, loss_fn, optimizer, _, _ = setup()
    events = []  # per batch, in order: forward, loss, backward (with stale grads?), step
    model.register_forward_pre_hook(lambda *_: events.append("forward"))
    loss_fn.register_forward_hook(lambda *_: events.append("loss"))
    first = next(model.parameters())
    first.register_hook(lambda g: events.append("backward" if first.grad is None or not first.grad.any()
                                                else "backward_stale"))
    step = optimizer.step
    optimizer.step = lambda *a, **k: (events.append("step"), step(*a, **k))[1]
    train(sub, model, loader, loss_fn, optimizer)
    batches = len(loader)
    if "backward" not in events and "backward_stale" not in events:
        fail(en="`loss.backward()` is never called, so no gradients are computed. In each batch the order is "
                f"{STEPS_EN}.",
             ko="`loss.backward()`를 호출하지 않아 gradient가 계산되지 않습니다. batch마다 순서는 "
                f"{STEPS_EN}입니다.")
    if "step" not in events:
        fail(en="`optimizer.step()` is never called, so the parameters never change and the loss stays where "
                f"it is. In each batch the order is {STEPS_EN}.",
             ko="`optimizer.step()`을 호출하지 않아 parameter가 바뀌지 않고 loss도 그대로입니다. batch마다 "
                f"순서는 {STEPS_EN}입니다.")
    if "backward_stale" in events:
        fail(en="The gradients of the previous batch were still in `.grad` when `loss.backward()` ran, so "
                "they add up from batch to batch. Call `optimizer.zero_grad()` at the start of each batch.",
             ko="`loss.backward()`가 실행될 때 이전 batch의 gradient가 `.grad`에 남아 있어서 batch마다 "
                "누적됩니다. 각 batch를 시작할 때 `optimizer.zero_grad()`를 호출하세요.")
    want = ["forward", "loss", "backward", "step"] * batches
    if events != want:
        shown = ", ".join(events[:8]) + (", ..." if len(events) > 8 else "")
        fail(en=f"For {batches} batches each batch should run forward, loss, backward, step once, in that "
                f"order; yours ran: {shown}. The order is {STEPS_EN}.",
             ko=f"batch {batches}개에서 각 batch가 forward, loss, backward, step을 이 순서로 한 번씩 "
                f"실행해야 하는데 실제로는 {shown} 순서였습니다. 순서는 {STEPS_EN}입니다.")


@check("average_loss", aspect="output")
def average_loss(sub):
    model, loader, loss_fn, _, X, y = setup()
    with torch.no_grad():
        want = float(nn.functional.cross_entropy(model(X), y))
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)  # no change: the mean is over one fixed model
    got = train(sub, model, loader, loss_fn, frozen)
    if isinstance(got, torch.Tensor):
        fail(en="`train_one_epoch` returns a tensor. Return a Python float: add up `loss.item() * len(xb)`.",
             ko="`train_one_epoch`가 tensor를 돌려줍니다. `loss.item() * len(xb)`를 더해 Python float를 "
                "돌려주세요.")
    shown = f"{got:.4f}" if isinstance(got, float) else repr(got)
    if not isinstance(got, (int, float)) or not math.isclose(float(got), want, rel_tol=1e-5, abs_tol=1e-6):
        fail(en=f"With batches of 20, 20 and 10 samples and an unchanging model, `train_one_epoch` returned "
                f"{shown}; the sample-weighted average loss is {want:.4f}. Add `loss.item() * len(xb)` "
                f"per batch and divide by the number of samples.",
             ko=f"batch가 20, 20, 10개이고 model이 바뀌지 않을 때 `train_one_epoch`가 {shown}을 "
                f"돌려줬습니다. 샘플 수로 가중한 평균 loss는 {want:.4f}입니다. batch마다 "
                "`loss.item() * len(xb)`를 더해 전체 샘플 수로 나누세요.")


@check("final_loss", aspect="output", uses_output=True)
def final_loss(sub):
    line = expect_printed_pattern(sub, r"epoch 10:\s*([0-9.]+)", example="epoch 10: 0.1486")
    value = float(line.split(":")[1])
    if not value < 0.2:
        fail(en=f"The loss of the 10th epoch is {value:.4f}; it should be below 0.2 (0.1486 with a correct "
                "loop). Check the five steps of each batch.",
             ko=f"10번째 epoch의 loss가 {value:.4f}입니다. 0.2보다 작아야 합니다 (올바른 loop라면 0.1486). "
                "batch마다의 다섯 단계를 확인하세요.")
    expect_printed_pattern(sub, r"below 0\.2:\s*(\w+)", expected="True", example="below 0.2: True")
