import torch
from torch import nn


class MLP(nn.Module):
    """784 -> 256 -> 128 -> 10, with ReLU between the layers."""

    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)]
        self.act = nn.ReLU()

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.act(layer(x))
        return self.layers[-1](x)


model = MLP()

for name, p in model.named_parameters():
    print(name, tuple(p.shape))

total = sum(p.numel() for p in model.parameters())
print("total:", total)
