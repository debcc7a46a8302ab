"""Seeded inputs: the same named tensors for the learner, the reference and every mistake.

The seed is drawn per submission on the server (:mod:`questlab.grading.judge.bank`).
A name and a seed determine a tensor through SHA-256, so the reference's run
and the learner's run draw identical inputs without sharing any state.
"""

from __future__ import annotations

import hashlib
from typing import Any


def seed_for(seed: int, name: str) -> int:
    """A 63-bit seed for ``name`` derived from the submission's ``seed`` (SHA-256 of both)."""
    digest = hashlib.sha256(f"{int(seed)}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


class Inputs:
    """Named seeded tensors of one run.

    Args:
        seed: the submission's seed (an int below 2**63).

    Each method draws from a fresh ``torch.Generator`` seeded by :func:`seed_for`,
    so the same name and shape give the same tensor in every run with this seed.
    A copy is returned each time, so a program that changes an input in place does
    not change what the next observation sees.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._cache: dict[tuple[Any, ...], Any] = {}

    def seed_for(self, name: str) -> int:
        """The derived seed of ``name`` (for programs that take a seed argument)."""
        return seed_for(self.seed, name)

    def _draw(self, key: tuple[Any, ...], make: Any) -> Any:
        import torch

        if key not in self._cache:
            generator = torch.Generator().manual_seed(seed_for(self.seed, key[1]))
            self._cache[key] = make(generator)
        return self._cache[key].clone()

    def randn(self, name: str, *shape: int) -> Any:
        """A float32 tensor of ``shape`` from N(0, 1)."""
        import torch

        return self._draw(("randn", name, shape), lambda g: torch.randn(*shape, generator=g))

    def rand(self, name: str, *shape: int) -> Any:
        """A float32 tensor of ``shape`` from U[0, 1)."""
        import torch

        return self._draw(("rand", name, shape), lambda g: torch.rand(*shape, generator=g))

    def randint(self, name: str, low: int, high: int, shape: tuple[int, ...]) -> Any:
        """An int64 tensor of ``shape`` with values in ``[low, high)``."""
        import torch

        return self._draw(
            ("randint", name, low, high, tuple(shape)),
            lambda g: torch.randint(low, high, tuple(shape), generator=g),
        )

    def fill(self, name: str, *shape: int, bound: float = 1.0) -> Any:
        """A new float32 tensor of ``shape`` from U(-bound, bound) (not cached: for parameter values)."""
        import torch

        generator = torch.Generator().manual_seed(seed_for(self.seed, name))
        return torch.empty(*shape).uniform_(-bound, bound, generator=generator)
