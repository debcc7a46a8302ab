import math

import torch


def scores_matmul(q, k):
    """q (..., T, D)와 k (..., S, D)의 attention 점수 q·kᵀ / sqrt(D)를 @로: (..., T, S)."""
    # TODO: k의 마지막 두 축을 바꾸고, @로 곱한 뒤, sqrt(D)로 나누세요.
    return torch.zeros(*q.shape[:-1], k.shape[-2])


def scores_einsum(q, k):
    """같은 점수를 torch.einsum으로: d는 더해져 사라지고, ...는 앞쪽 축을 모두 유지합니다."""
    # TODO: torch.einsum을 한 번 호출한 뒤, 같은 방식으로 scale하세요.
    return torch.zeros(*q.shape[:-1], k.shape[-2])


torch.manual_seed(0)
q = torch.randn(2, 5, 4)          # (batch, query, dim)
k = torch.randn(2, 3, 4)          # (batch, key, dim)
a = scores_matmul(q, k)
b = scores_einsum(q, k)
print(a.shape, b.shape)
print(a.shape == b.shape and torch.allclose(a, b, atol=1e-6))
print(round(a[0, 1, 2].item(), 4), round((q[0, 1] @ k[0, 2]).item() / 2, 4))   # 점수 하나를 손으로: sqrt(4) = 2
