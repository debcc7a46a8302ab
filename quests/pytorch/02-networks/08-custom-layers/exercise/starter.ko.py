import torch
from torch import nn


class MyLayerNorm(nn.Module):
    """마지막 dimension에 대한 layer normalization, 학습되는 weight와 bias 포함."""

    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.normalized_shape = normalized_shape
        self.eps = eps
        # TODO: 학습되는 weight(모두 1)와 bias(모두 0), 각각 shape은
        #       (normalized_shape,)이고 parameter로 등록합니다: weight 먼저, 그다음 bias.

    def forward(self, x):
        # TODO: x의 마지막 dimension이 normalized_shape이 아니면 ValueError를 raise하세요.
        # TODO: nn.LayerNorm처럼 마지막 dimension에 대해 normalize한 뒤,
        #       weight를 곱하고 bias를 더하세요.
        return x

    # TODO: print(MyLayerNorm(8))이 MyLayerNorm(8, eps=1e-05)를 보여 주도록 extra_repr를 쓰세요


norm = MyLayerNorm(8)
print(norm)
print([(name, tuple(p.shape)) for name, p in norm.named_parameters()])

torch.manual_seed(0)
x = torch.randn(2, 3, 8)
print("same as nn.LayerNorm:", torch.allclose(norm(x), nn.LayerNorm(8)(x), atol=1e-5))

try:
    norm(torch.randn(4, 5))
except ValueError as err:
    print("ValueError:", err)
