import torch
from torch import nn


class MLP(nn.Module):
    """784 -> 256 -> 128 -> 10, with ReLU between the layers."""

    def __init__(self):
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)
        self.act = nn.ReLU()  # no parameters, so one instance can be reused

    def forward(self, x):
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.fc3(x)  # raw scores (logits): no ReLU after the last layer


model = MLP()

for name, p in model.named_parameters():
    print(name, tuple(p.shape))

total = sum(p.numel() for p in model.parameters())
print("total:", total)
