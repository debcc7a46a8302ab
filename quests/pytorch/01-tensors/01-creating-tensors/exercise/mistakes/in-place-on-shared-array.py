import numpy as np
import torch


def to_kelvin(celsius):
    """NumPy float64 array in degrees Celsius -> float32 tensor in kelvin, same shape.

    The caller's `celsius` array must not change.
    """
    t = torch.from_numpy(celsius)   # shares memory with the caller's array
    t += 273.15                     # in place: the caller's celsius changes too
    return t.float()


def timeline(n, duration):
    """n evenly spaced times from 0 to duration, both ends included: float32, shape (n,)."""
    return torch.linspace(0, duration, n)


def noise_like(x, seed):
    """Noise from N(0, 1) with x's shape and dtype; the same seed always gives the same noise."""
    torch.manual_seed(seed)
    return torch.randn_like(x)


print(to_kelvin(np.array([0.0, 100.0])))
print(timeline(5, 2.0))
print(noise_like(torch.zeros(2, 3, dtype=torch.float64), seed=7))
