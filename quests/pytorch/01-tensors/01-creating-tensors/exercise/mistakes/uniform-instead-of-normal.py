import numpy as np
import torch


def to_kelvin(celsius):
    """NumPy float64 array in degrees Celsius -> float32 tensor in kelvin, same shape.

    The caller's `celsius` array must not change.
    """
    # Asking for float32 makes as_tensor copy, and `+` makes a new tensor either way,
    # so nothing is written into the caller's memory.
    return torch.as_tensor(celsius, dtype=torch.float32) + 273.15


def timeline(n, duration):
    """n evenly spaced times from 0 to duration, both ends included: float32, shape (n,)."""
    return torch.linspace(0, duration, n)


def noise_like(x, seed):
    """Noise from N(0, 1) with x's shape and dtype; the same seed always gives the same noise."""
    torch.manual_seed(seed)
    return torch.rand_like(x)   # uniform on [0, 1), not N(0, 1)


print(to_kelvin(np.array([0.0, 100.0])))
print(timeline(5, 2.0))
print(noise_like(torch.zeros(2, 3, dtype=torch.float64), seed=7))
