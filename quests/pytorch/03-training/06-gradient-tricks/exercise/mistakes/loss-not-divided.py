import copy

import torch
from torch import nn


def accumulated_step(model, x, y, loss_fn, optimizer, micro_batches, max_norm):
    """One optimizer step on the batch (x, y), computed in micro_batches equal pieces.

    The parameters end where one step on the whole batch with its gradient clipped to
    max_norm would put them. Returns the total gradient norm before clipping, as a float.
    """
    optimizer.zero_grad()
    for xb, yb in zip(x.chunk(micro_batches), y.chunk(micro_batches)):
        loss = loss_fn(model(xb), yb)
        loss.backward()  # adds into .grad
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)  # once, on the gathered gradient
    optimizer.step()
    return norm.item()


def big_batch_step(model, x, y, loss_fn, optimizer, max_norm):
    """The reference: one step on the whole batch at once."""
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return norm.item()


# A regression batch of 48 samples that, say, only fits in memory 12 at a time.
torch.manual_seed(0)
X = torch.randn(48, 3)
y = torch.sin(X[:, :1]) + 0.5 * X[:, 1:2] * X[:, 2:3] + 0.1 * torch.randn(48, 1)

model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))
big = copy.deepcopy(model)  # the same starting weights for the reference
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
big_optimizer = torch.optim.SGD(big.parameters(), lr=0.2)

for step in range(1, 4):
    norm = accumulated_step(model, X, y, loss_fn, optimizer, micro_batches=4, max_norm=0.5)
    big_norm = big_batch_step(big, X, y, loss_fn, big_optimizer, max_norm=0.5)
    same = all(torch.allclose(p, q, atol=1e-6) for p, q in zip(model.parameters(), big.parameters()))
    print(f"step {step}: norm {norm:.4f} (one big batch: {big_norm:.4f}), same parameters: {same}")
