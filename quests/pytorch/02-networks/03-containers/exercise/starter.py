from collections import OrderedDict

import torch
from torch import nn


def build_mlp(sizes):
    """Linear layers named fc1, fc2, ... with ReLUs named act1, act2, ... in between."""
    layers = []
    # TODO: for each consecutive pair in sizes, add ("fc<i>", nn.Linear(...)),
    #       and ("act<i>", nn.ReLU()) after every Linear except the last one.
    return nn.Sequential(OrderedDict(layers))


class MultiTaskNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = build_mlp([8, 32, 16])
        # TODO: two heads on the 16 trunk features, "score" (1 output) and
        #       "label" (3 outputs). A plain dict is not registered!
        self.heads = {}

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
