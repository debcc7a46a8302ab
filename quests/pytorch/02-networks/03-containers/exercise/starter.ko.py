from collections import OrderedDict

import torch
from torch import nn


def build_mlp(sizes):
    """fc1, fc2, ...라는 이름의 Linear layer와 그 사이의 act1, act2, ...라는 이름의 ReLU."""
    layers = []
    # TODO: sizes의 이웃한 쌍마다 ("fc<i>", nn.Linear(...))를 넣고,
    #       마지막을 뺀 모든 Linear 뒤에 ("act<i>", nn.ReLU())를 넣으세요.
    return nn.Sequential(OrderedDict(layers))


class MultiTaskNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = build_mlp([8, 32, 16])
        # TODO: trunk의 feature 16개 위에 head 두 개, "score"(출력 1개)와
        #       "label"(출력 3개). 평범한 dict는 등록되지 않습니다!
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
