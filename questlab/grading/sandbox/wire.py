"""Encoding observations as plain JSON (the sandbox half of the wire format).

Observations leave the learner's process as one JSON document. Tensors are
sent as ``{"$tensor": {"dtype", "shape", "data"}}`` where ``data`` is the
base64 of the values as little-endian float64 (floating and complex-free
dtypes), int64 (integer dtypes) or uint8 (bool); never a pickle. A failed
observation is ``{"$error": {...}}``. The server side
(:mod:`questlab.grading.judge.wire`) re-checks every byte of it: this module
is a convenience for honest programs, not a guarantee.
"""

from __future__ import annotations

import array
import base64
import math
import sys
from typing import Any

#: Largest number of tensor elements one report may carry in all.
MAX_ELEMENTS = 20_000
#: Longest string kept in an observation (characters).
MAX_STRING = 2_000

_FLOATS = {"float16", "bfloat16", "float32", "float64"}
_INTS = {"int8", "int16", "int32", "int64", "uint8"}


class Unencodable(Exception):
    """An observation returned something the wire format does not carry (e.g. a module object)."""


class Budget:
    """Counts the tensor elements encoded so far against :data:`MAX_ELEMENTS`."""

    def __init__(self, elements: int = MAX_ELEMENTS) -> None:
        self.left = elements

    def take(self, n: int) -> None:
        """Use ``n`` elements. Raises :class:`Unencodable` when the budget is exceeded."""
        self.left -= n
        if self.left < 0:
            raise Unencodable(f"the observations hold more than {MAX_ELEMENTS} tensor elements")


def _tensor(value: Any, budget: Budget) -> dict[str, Any]:
    import torch

    t = value.detach()
    if t.is_complex():
        raise Unencodable("complex tensors are not observed")
    dtype = str(t.dtype).removeprefix("torch.")
    budget.take(t.numel())
    flat = t.to("cpu").reshape(-1)
    if dtype in _FLOATS:
        raw = array.array("d", flat.to(torch.float64).tolist())
    elif dtype in _INTS:
        raw = array.array("q", flat.to(torch.int64).tolist())
    elif dtype == "bool":
        raw = array.array("B", flat.to(torch.uint8).tolist())
    else:
        raise Unencodable(f"tensors of dtype {dtype} are not observed")
    if sys.byteorder != "little":
        raw.byteswap()
    data = base64.b64encode(raw.tobytes()).decode("ascii")
    return {"$tensor": {"dtype": dtype, "shape": list(t.shape), "data": data}}


def encode(value: Any, budget: Budget | None = None, depth: int = 0) -> Any:
    """Return ``value`` as JSON-ready data.

    Args:
        value: ``None``, ``bool``, ``int``, ``float``, ``str``, a ``torch.Tensor``, a
            ``torch.Size``, a ``torch.dtype`` (sent as its name, e.g. ``"torch.float32"``),
            a NumPy array or scalar, or lists, tuples and ``str``-keyed dicts of these
            (tuples arrive as lists). Non-finite floats are sent as ``{"$float": "nan"}``.
        budget: shared element budget of one report.
        depth: nesting so far (at most 12 levels).

    Raises:
        Unencodable: for any other type, a key starting with ``$``, or a report too large.
    """
    budget = budget or Budget()
    if depth > 12:
        raise Unencodable("observations nest more than 12 levels deep")
    if value is None or isinstance(value, (bool, int)) and not hasattr(value, "dtype"):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            raise Unencodable("integers beyond 64 bits are not observed")
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, str):
        return value[:MAX_STRING]
    import torch

    if isinstance(value, torch.Tensor):
        return _tensor(value, budget)
    if isinstance(value, torch.Size):
        return [int(n) for n in value]
    if isinstance(value, torch.dtype):
        return str(value)
    if type(value).__module__ == "numpy":  # NumPy is optional: only seen when the program made one
        if hasattr(value, "shape") and getattr(value, "ndim", 0):
            return _tensor(torch.as_tensor(value), budget)
        return encode(value.item(), budget, depth + 1)
    if isinstance(value, (list, tuple)):
        budget.take(len(value))
        return [encode(v, budget, depth + 1) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("$error"), dict):  # a failed part (error_data)
            return {"$error": encode(value["$error"], budget, depth + 1)}
        out = {}
        budget.take(len(value))
        for k, v in value.items():
            if not isinstance(k, str) or k.startswith("$"):
                raise Unencodable(f"dict keys must be strings not starting with '$', not {k!r:.40}")
            out[k] = encode(v, budget, depth + 1)
        return out
    raise Unencodable(f"values of type {type(value).__name__} are not observed")
