import torch
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, SequentialLR
from torch.utils.data import DataLoader, TensorDataset


def make_scheduler(optimizer, warmup_steps, total_steps):
    """각 group lr의 10%에서 시작해 warmup_steps 동안 linear warm-up, 그다음 total_steps에서 0이 되는 cosine decay."""
    # TODO: warmup_steps 동안 linear warm-up, 그다음 total_steps까지 cosine decay.
    #       지금은 learning rate가 그대로 머물러 있습니다.
    return LambdaLR(optimizer, lambda step: 1.0)


def train_one_epoch(model, loader, loss_fn, optimizer, scheduler):
    """loader를 한 바퀴 돌며 batch마다 schedule을 한 step씩 진행하고, 평균 loss를 돌려줍니다."""
    # TODO: scheduler.step()을 알맞은 자리에서 부르세요: schedule은 optimizer step을 셉니다
    model.train()
    total, count = 0.0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
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

used = []  # 각 optimizer.step()이 실제로 쓴 learning rate
optimizer.register_step_pre_hook(lambda opt, args, kwargs: used.append(opt.param_groups[0]["lr"]))

for epoch in range(1, epochs + 1):
    used.clear()
    loss = train_one_epoch(model, loader, loss_fn, optimizer, scheduler)
    lrs = " ".join(f"{lr:.4f}" for lr in used)
    print(f"epoch {epoch}  loss {loss:.4f}  lr {lrs}")
