import copy

import torch
from torch import nn


def accumulated_step(model, x, y, loss_fn, optimizer, micro_batches, max_norm):
    """batch (x, y)를 micro_batches개의 같은 조각으로 나눠 계산한 optimizer step 한 번.

    parameter는 batch 전체로 한 step, gradient를 max_norm으로 clip한 경우와 같은 곳에
    도착합니다. clip하기 전의 전체 gradient norm을 float로 돌려줍니다.
    """
    # TODO: 지난 gradient를 비우세요 (loop 전에 한 번)
    for xb, yb in zip(x.chunk(micro_batches), y.chunk(micro_batches)):
        # TODO: 조각들의 gradient를 더하면 batch 전체의 평균 loss가 되도록 이 loss의 크기를 맞추세요
        loss = loss_fn(model(xb), yb)
        loss.backward()
    # TODO: 모인 gradient를 max_norm으로 (한 번) clip하고, optimizer step을 한 번 밟고,
    #       clip 전의 norm을 Python float로 돌려주세요
    return 0.0


def big_batch_step(model, x, y, loss_fn, optimizer, max_norm):
    """비교 기준: batch 전체로 한 번에 한 step."""
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return norm.item()


# 48개 sample의 regression batch. 메모리에는 한 번에 12개만 들어간다고 칩시다.
torch.manual_seed(0)
X = torch.randn(48, 3)
y = torch.sin(X[:, :1]) + 0.5 * X[:, 1:2] * X[:, 2:3] + 0.1 * torch.randn(48, 1)

model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))
big = copy.deepcopy(model)  # 비교 기준도 같은 weight에서 시작합니다
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
big_optimizer = torch.optim.SGD(big.parameters(), lr=0.2)

for step in range(1, 4):
    norm = accumulated_step(model, X, y, loss_fn, optimizer, micro_batches=4, max_norm=0.5)
    big_norm = big_batch_step(big, X, y, loss_fn, big_optimizer, max_norm=0.5)
    same = all(torch.allclose(p, q, atol=1e-6) for p, q in zip(model.parameters(), big.parameters()))
    print(f"step {step}: norm {norm:.4f} (one big batch: {big_norm:.4f}), same parameters: {same}")
