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
    # TODO: two param groups instead of one: the backbone with lr 0.001,
    #       the head with lr 0.01 and weight_decay 1e-4; momentum 0.9 for both
    return torch.optim.SGD(model.parameters(), lr=0.01)


def scale_lr(optimizer, factor):
    """Multiply the learning rate of every param group by factor."""
    # TODO: change the lr of every group in optimizer.param_groups
    pass


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
