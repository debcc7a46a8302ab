import numpy as np
import torch


def to_kelvin(celsius):
    """섭씨 온도의 NumPy float64 배열 -> 켈빈 단위 float32 tensor, shape은 그대로.

    호출한 쪽의 `celsius` 배열은 바뀌면 안 됩니다.
    """
    # TODO: celsius로 float32 tensor를 만들고 273.15를 더하세요
    return None


def timeline(n, duration):
    """0부터 duration까지 양 끝을 포함해 같은 간격으로 놓인 시각 n개: float32, shape (n,)."""
    # TODO
    return None


def noise_like(x, seed):
    """x와 shape, dtype이 같은 N(0, 1) noise. 같은 seed면 언제나 같은 noise."""
    # TODO: seed를 먼저 고정한 뒤 뽑으세요
    return None


print(to_kelvin(np.array([0.0, 100.0])))
print(timeline(5, 2.0))
print(noise_like(torch.zeros(2, 3, dtype=torch.float64), seed=7))
