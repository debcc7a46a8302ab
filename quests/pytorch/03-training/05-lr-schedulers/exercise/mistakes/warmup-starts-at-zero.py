import torch
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, SequentialLR
from torch.utils.data import DataLoader, TensorDataset


def make_scheduler(optimizer, warmup_steps, total_steps):
    """Linear warm-up from 10% of each group's lr over warmup_steps, then cosine decay to 0 at total_steps."""
    warmup = LambdaLR(optimizer, lambda step: step / warmup_steps)
    cosine = CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps)
    return SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])


def train_one_epoch(model, loader, loss_fn, optimizer, scheduler):
    """One pass over loader, moving the schedule on by one step per batch; returns the mean loss."""
    model.train()
    total, count = 0.0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.item() * len(xb)
        count += len(xb)
    return total / count


torch.manual_seed(0)
X = torch.randn(64, 3)
y = (X @ torch.tensor([1.5, -2.0, 0.5]) + 0.3 + 0.1 * torch.randn(64)).unsqueeze(1)
loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)

model = nn.Linear(3, 1)
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
epochs = 6
scheduler = make_scheduler(optimizer, warmup_steps=4, total_steps=epochs * len(loader))

used = []  # the learning rate each optimizer.step() really used
optimizer.register_step_pre_hook(lambda opt, args, kwargs: used.append(opt.param_groups[0]["lr"]))

for epoch in range(1, epochs + 1):
    used.clear()
    loss = train_one_epoch(model, loader, loss_fn, optimizer, scheduler)
    lrs = " ".join(f"{lr:.4f}" for lr in used)
    print(f"epoch {epoch}  loss {loss:.4f}  lr {lrs}")
