import math

import torch


def scores_matmul(q, k):
    """Attention scores q·kᵀ / sqrt(D) for q (..., T, D) and k (..., S, D), with @: (..., T, S)."""
    return q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])


def scores_einsum(q, k):
    """The same scores with torch.einsum: d is summed away, ... keeps every leading dim."""
    return torch.einsum("...td,...sd->...ts", q, k) / math.sqrt(q.shape[-1])


torch.manual_seed(0)
q = torch.randn(2, 5, 4)          # (batch, queries, dim)
k = torch.randn(2, 3, 4)          # (batch, keys, dim)
a = scores_matmul(q, k)
b = scores_einsum(q, k)
print(a.shape, b.shape)
print(a.shape == b.shape and torch.allclose(a, b, atol=1e-6))
print(round(a[0, 1, 2].item(), 4), round((q[0, 1] @ k[0, 2]).item() / 2, 4))   # one score by hand: sqrt(4) = 2
