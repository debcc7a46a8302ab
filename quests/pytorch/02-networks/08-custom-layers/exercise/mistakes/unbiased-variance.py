import torch
from torch import nn


class MyLayerNorm(nn.Module):
    """Layer normalization over the last dimension, with a learned weight and bias."""

    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.normalized_shape = normalized_shape
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))

    def forward(self, x):
        if x.shape[-1] != self.normalized_shape:
            raise ValueError(
                f"expected the last dimension to be {self.normalized_shape}, got input of shape {tuple(x.shape)}"
            )
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, keepdim=True)
        x_hat = (x - mean) / torch.sqrt(var + self.eps)  # eps inside the square root
        return x_hat * self.weight + self.bias

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"


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
