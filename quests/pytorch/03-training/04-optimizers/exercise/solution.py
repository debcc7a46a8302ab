import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.backbone(x))


def make_optimizer(model):
    """SGD with momentum 0.9: a gentle learning rate for the backbone, a larger one and weight decay for the head."""
    return torch.optim.SGD(
        [
            {"params": model.backbone.parameters(), "lr": 0.001},
            {"params": model.head.parameters(), "lr": 0.01, "weight_decay": 1e-4},
        ],
        momentum=0.9,
    )


def scale_lr(optimizer, factor):
    """Multiply the learning rate of every param group by factor."""
    for group in optimizer.param_groups:
        group["lr"] *= factor


torch.manual_seed(0)
model = Net()
optimizer = make_optimizer(model)

for i, group in enumerate(optimizer.param_groups):
    print(f"group {i}: lr={group['lr']:g} momentum={group['momentum']:g} "
          f"weight_decay={group['weight_decay']:g} params={len(group['params'])}")

total = sum(len(group["params"]) for group in optimizer.param_groups)
print("every parameter in a group:", total == len(list(model.parameters())))

scale_lr(optimizer, 0.1)
print("after scale_lr(0.1):", [f"{group['lr']:g}" for group in optimizer.param_groups])
