import math

import torch
from torch import nn

torch.manual_seed(0)


def build_model(in_f, hidden, out_f, depth):
    """Linear(in_f, hidden) → LayerNorm(hidden) → ReLU,
    then `depth` times Linear(hidden, hidden) → ReLU,
    그다음 Linear(hidden, out_f), 전부 nn.Sequential 하나에."""
    layers = [nn.Linear(in_f, hidden), nn.LayerNorm(hidden), nn.ReLU()]
    # TODO: hidden block(Linear(hidden, hidden) → ReLU)을 `depth`개 넣고,
    #       마지막에 Linear(hidden, out_f)를 넣으세요.
    return nn.Sequential(*layers)


def init_weights(m):
    """model.apply()가 model의 모든 module마다 한 번씩 부릅니다."""
    # TODO: nn.Linear    → weight는 N(0, 2 / fan_in)에서, bias는 모두 0
    #       nn.LayerNorm → weight는 모두 1, bias는 모두 0
    #       그 밖의 module → 그대로 둡니다
    pass


model = build_model(16, 64, 4, depth=2)
# TODO: model의 모든 module에 init_weights를 실행하세요

print("total:", sum(p.numel() for p in model.parameters()))
