import torch
from torch import nn


class MyLayerNorm(nn.Module):
    """Layer normalization over the last dimension, with a learned weight and bias."""

    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.normalized_shape = normalized_shape
        self.eps = eps
        # TODO: a learned weight (all ones) and bias (all zeros), each of shape
        #       (normalized_shape,), registered as parameters: weight first, then bias.

    def forward(self, x):
        # TODO: raise a ValueError when the last dimension of x is not normalized_shape.
        # TODO: normalize over the last dimension as nn.LayerNorm does,
        #       then multiply by weight and add bias.
        return x

    # TODO: extra_repr, so that print(MyLayerNorm(8)) shows MyLayerNorm(8, eps=1e-05)


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
