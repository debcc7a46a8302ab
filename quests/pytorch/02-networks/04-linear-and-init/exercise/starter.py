import math

import torch
from torch import nn

torch.manual_seed(0)


def build_model(in_f, hidden, out_f, depth):
    """Linear(in_f, hidden) → LayerNorm(hidden) → ReLU,
    then `depth` times Linear(hidden, hidden) → ReLU,
    then Linear(hidden, out_f), all in one nn.Sequential."""
    layers = [nn.Linear(in_f, hidden), nn.LayerNorm(hidden), nn.ReLU()]
    # TODO: add `depth` hidden blocks (Linear(hidden, hidden) → ReLU),
    #       then the last Linear(hidden, out_f).
    return nn.Sequential(*layers)


def init_weights(m):
    """Called by model.apply() once for every module of the model."""
    # TODO: nn.Linear    → weight from N(0, 2 / fan_in), bias all zeros
    #       nn.LayerNorm → weight all ones, bias all zeros
    #       any other module → leave it as it is
    pass


model = build_model(16, 64, 4, depth=2)
# TODO: run init_weights on every module of model

print("total:", sum(p.numel() for p in model.parameters()))
