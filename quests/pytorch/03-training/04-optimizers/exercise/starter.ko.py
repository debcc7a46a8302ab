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
    """momentum 0.9인 SGD: backbone에는 작은 learning rate, head에는 더 큰 learning rate와 weight decay."""
    # TODO: param group을 하나가 아니라 둘로: backbone은 lr 0.001,
    #       head는 lr 0.01과 weight_decay 1e-4, momentum은 둘 다 0.9
    return torch.optim.SGD(model.parameters(), lr=0.01)


def scale_lr(optimizer, factor):
    """모든 param group의 learning rate에 factor를 곱합니다."""
    # TODO: optimizer.param_groups의 모든 group에서 lr을 바꾸세요
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
