from collections import OrderedDict

import torch
from torch import nn


def build_mlp(sizes):
    """Linear layers named fc1, fc2, ... with ReLUs named act1, act2, ... in between."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        layers.append((f"fc{i}", nn.Linear(n_in, n_out)))
        if i < len(sizes) - 1:  # no activation after the last Linear
            layers.append((f"act{i}", nn.ReLU))
    return nn.Sequential(OrderedDict(layers))


class MultiTaskNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = build_mlp([8, 32, 16])
        self.heads = nn.ModuleDict({
            "score": nn.Linear(16, 1),
            "label": nn.Linear(16, 3),
        })

    def forward(self, x):
        features = torch.relu(self.trunk(x))
        return {name: head(features) for name, head in self.heads.items()}


torch.manual_seed(0)
model = MultiTaskNet()
print(model)

outputs = model(torch.randn(5, 8))
for name, out in outputs.items():
    print(name, tuple(out.shape))

print("total:", sum(p.numel() for p in model.parameters()))
