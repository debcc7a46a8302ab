import math

import torch
from torch import nn

torch.manual_seed(0)


def build_model(in_f, hidden, out_f, depth):
    """Linear(in_f, hidden) → LayerNorm(hidden) → ReLU,
    then `depth` times Linear(hidden, hidden) → ReLU,
    then Linear(hidden, out_f), all in one nn.Sequential."""
    layers = [nn.Linear(in_f, hidden), nn.LayerNorm(hidden), nn.ReLU()]
    for _ in range(depth):
        layers += [nn.Linear(hidden, hidden), nn.ReLU()]  # a new Linear every time
    layers.append(nn.Linear(hidden, out_f))
    return nn.Sequential(*layers)


def init_weights(m):
    """Called by model.apply() once for every module of the model."""
    if isinstance(m, nn.Linear):
        nn.init.zeros_(m.weight)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


model = build_model(16, 64, 4, depth=2)
model.apply(init_weights)

print("total:", sum(p.numel() for p in model.parameters()))
