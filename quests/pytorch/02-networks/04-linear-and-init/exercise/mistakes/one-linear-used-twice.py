import math

import torch
from torch import nn

torch.manual_seed(0)


def build_model(in_f, hidden, out_f, depth):
    """Linear(in_f, hidden) → LayerNorm(hidden) → ReLU,
    then `depth` times Linear(hidden, hidden) → ReLU,
    then Linear(hidden, out_f), all in one nn.Sequential."""
    layers = [nn.Linear(in_f, hidden), nn.LayerNorm(hidden), nn.ReLU()]
    block = nn.Linear(hidden, hidden)
    for _ in range(depth):
        layers += [block, nn.ReLU()]
    layers.append(nn.Linear(hidden, out_f))
    return nn.Sequential(*layers)


def init_weights(m):
    """Called by model.apply() once for every module of the model."""
    if isinstance(m, nn.Linear):
        # He (Kaiming) normal: std = sqrt(2 / fan_in), fan_in = in_features = weight.shape[1]
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


model = build_model(16, 64, 4, depth=2)
model.apply(init_weights)

print("total:", sum(p.numel() for p in model.parameters()))
