import numpy as np
import torch


def to_kelvin(celsius):
    """섭씨 온도의 NumPy float64 array -> 켈빈 단위 float32 tensor, shape은 그대로.

    The caller's `celsius` array must not change.
    """
    # TODO: celsius로 float32 tensor를 만들고 273.15를 더하세요
    return None


def timeline(n, duration):
    """0부터 duration까지 양 끝을 포함해 고르게 나눈 시각 n개: float32, shape (n,)."""
    # TODO
    return None


def noise_like(x, seed):
    """x와 같은 shape, dtype의 N(0, 1) 노이즈. 같은 seed면 언제나 같은 노이즈."""
    # TODO: seed를 먼저 고정한 뒤 뽑으세요
    return None


print(to_kelvin(np.array([0.0, 100.0])))
print(timeline(5, 2.0))
print(noise_like(torch.zeros(2, 3, dtype=torch.float64), seed=7))
