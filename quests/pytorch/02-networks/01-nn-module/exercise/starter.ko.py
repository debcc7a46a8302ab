import torch
from torch import nn


class MLP(nn.Module):
    """784 -> 256 -> 128 -> 10, layer 사이에 ReLU."""

    def __init__(self):
        super().__init__()
        # TODO: self에 nn.Linear layer 세 개를 fc1, fc2, fc3라는 이름으로 만들고,
        #       ReLU activation도 하나 만드세요.

    def forward(self, x):
        # TODO: fc1 -> ReLU -> fc2 -> ReLU -> fc3
        return x


model = MLP()

for name, p in model.named_parameters():
    # TODO: 이름과 shape을 출력하세요. 예: "fc1.weight (256, 784)"
    pass

total = 0  # TODO: model.parameters() 전체의 p.numel()을 더하세요
print("total:", total)
