import torch
from torch import nn


class MLP(nn.Module):
    """784 -> 256 -> 128 -> 10, with ReLU between the layers."""

    def __init__(self):
        super().__init__()
        # TODO: create three nn.Linear layers on self, named fc1, fc2 and fc3,
        #       plus a ReLU activation.

    def forward(self, x):
        # TODO: fc1 -> ReLU -> fc2 -> ReLU -> fc3
        return x


model = MLP()

for name, p in model.named_parameters():
    # TODO: print the name and the shape, e.g. "fc1.weight (256, 784)"
    pass

total = 0  # TODO: add up p.numel() over model.parameters()
print("total:", total)
