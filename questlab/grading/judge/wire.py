"""Decoding observations (the server half of the wire format), trusting nothing.

The report comes from a process the learner owned. :func:`decode` accepts only
JSON scalars, lists, ``str``-keyed dicts, ``{"$tensor": ...}``, ``{"$float": ...}``
and ``{"$error": ...}``; sizes, dtypes and nesting are checked before anything
is built. Tensors become :class:`Tensor`, a plain value object: no torch import,
no pickle, nothing executable.
"""

from __future__ import annotations

import array
import base64
import binascii
import math
import re
import sys
from dataclasses import dataclass
from typing import Any

#: Tensor elements one report may carry in all (matches the sandbox's budget).
MAX_ELEMENTS = 20_000
MAX_DEPTH = 14
_DTYPES = {
    "float16": "d",
    "bfloat16": "d",
    "float32": "d",
    "float64": "d",
    "int8": "q",
    "int16": "q",
    "int32": "q",
    "int64": "q",
    "uint8": "q",
    "bool": "B",
}


class Malformed(Exception):
    """The report holds something the wire format does not allow (too large, wrong type, ...)."""


@dataclass(frozen=True)
class Tensor:
    """An observed tensor: ``dtype`` name (``"float32"``), ``shape`` and flat row-major ``values``.

    ``values`` are floats for floating dtypes, ints for integer dtypes, bools for ``bool``.
    """

    dtype: str
    shape: tuple[int, ...]
    values: tuple[Any, ...]

    @property
    def numel(self) -> int:
        """Number of elements."""
        return len(self.values)

    def tolist(self) -> Any:
        """Nested lists like ``torch.Tensor.tolist()`` (a scalar for a 0-d tensor)."""

        def build(offset: int, dims: tuple[int, ...]) -> Any:
            if not dims:
                return self.values[offset]
            step = 1
            for n in dims[1:]:
                step *= n
            return [build(offset + i * step, dims[1:]) for i in range(dims[0])]

        return build(0, self.shape)

    def max_diff(self, other: Tensor) -> float:
        """Largest absolute difference to ``other`` (``inf`` when shapes differ or a value is NaN
        on one side only)."""
        if self.shape != other.shape:
            return math.inf
        worst = 0.0
        for a, b in zip(self.values, other.values, strict=False):
            if a == b:
                continue
            a, b = float(a), float(b)
            if math.isnan(a) and math.isnan(b):
                continue
            d = abs(a - b)
            if math.isnan(d):
                return math.inf
            worst = max(worst, d)
        return worst

    def close(self, other: Any, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
        """Whether ``other`` is a :class:`Tensor` of the same shape with values within tolerance."""
        if not isinstance(other, Tensor) or self.shape != other.shape:
            return False
        for a, b in zip(self.values, other.values, strict=False):
            if a == b:
                continue
            a, b = float(a), float(b)
            if math.isnan(a) and math.isnan(b):
                continue
            if not abs(a - b) <= atol + rtol * abs(b):
                return False
        return True


@dataclass(frozen=True)
class ObservedError:
    """An observation that raised in the sandbox: exception ``type`` and ``message``, the program's
    ``line``, or a message ``key`` with ``params`` from a probe helper."""

    type: str
    message: str
    line: int | None
    key: str | None
    params: dict[str, Any]


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_ELEMENTS

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise Malformed(f"more than {MAX_ELEMENTS} elements")


def _scalar_params(params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise Malformed("error params are not a dict")
    out = {}
    for k, v in list(params.items())[:20]:
        if not isinstance(k, str) or not isinstance(v, (str, int, float, bool)):
            raise Malformed("error params must be plain")
        out[k[:50]] = v[:300] if isinstance(v, str) else v
    return out


def _error(data: Any) -> ObservedError:
    if not isinstance(data, dict):
        raise Malformed("an $error is not a dict")
    line = data.get("line")
    key = data.get("key")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool)):
        raise Malformed("an $error line is not an int")
    if key is not None and not isinstance(key, str):
        raise Malformed("an $error key is not a string")
    return ObservedError(
        str(data.get("type", ""))[:100],
        str(data.get("message", ""))[:500],
        line,
        key[:60] if key else None,
        _scalar_params(data.get("params", {})),
    )


def _tensor(data: Any, budget: _Budget) -> Tensor:
    if not isinstance(data, dict) or set(data) != {"dtype", "shape", "data"}:
        raise Malformed("a $tensor needs exactly dtype, shape and data")
    dtype, shape, payload = data["dtype"], data["shape"], data["data"]
    if dtype not in _DTYPES:
        raise Malformed(f"dtype {str(dtype)[:20]!r} is not allowed")
    if (
        not isinstance(shape, list)
        or len(shape) > 8
        or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_ELEMENTS for n in shape)
    ):
        raise Malformed("a tensor shape must be at most 8 non-negative ints")
    numel = 1
    for n in shape:
        numel *= n
    budget.take(numel)
    code = _DTYPES[dtype]
    width = array.array(code).itemsize
    if not isinstance(payload, str) or len(payload) > (numel * width * 4) // 3 + 8:
        raise Malformed("tensor data is not a string of the right size")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as err:
        raise Malformed("tensor data is not base64") from err
    if len(raw) != numel * width:
        raise Malformed(f"tensor data has {len(raw)} bytes for {numel} elements")
    values = array.array(code)
    values.frombytes(raw)
    if sys.byteorder != "little":
        values.byteswap()
    if dtype == "bool":
        if any(v > 1 for v in values):
            raise Malformed("bool tensor data holds values other than 0 and 1")
        items: tuple[Any, ...] = tuple(bool(v) for v in values)
    else:
        items = tuple(values)
    return Tensor(dtype, tuple(shape), items)


def decode(value: Any, budget: _Budget | None = None, depth: int = 0) -> Any:
    """Turn one encoded observation into plain Python data.

    Args:
        value: JSON-decoded data from the report.

    Returns:
        ``None``, ``bool``, ``int``, ``float``, ``str``, :class:`Tensor`, :class:`ObservedError`,
        or lists and dicts of these.

    Raises:
        Malformed: on anything else, on more than :data:`MAX_ELEMENTS` elements in all, or on
            nesting deeper than :data:`MAX_DEPTH`.
    """
    budget = budget or _Budget()
    if depth > MAX_DEPTH:
        raise Malformed("nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if abs(value) >= 2**63:
            raise Malformed("an integer beyond 64 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Malformed("a non-finite float outside $float")
        return value
    if isinstance(value, list):
        budget.take(len(value))
        return [decode(v, budget, depth + 1) for v in value]
    if isinstance(value, dict):
        budget.take(len(value))
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "$tensor":
                return _tensor(inner, budget)
            if key == "$error":
                return _error(inner)
            if key == "$float":
                if inner not in ("nan", "inf", "-inf"):
                    raise Malformed("a $float must be nan, inf or -inf")
                return float(inner)
        out = {}
        for k, v in value.items():
            if not isinstance(k, str) or k.startswith("$") or len(k) > 200:
                raise Malformed("a dict key is not a plain string")
            out[k] = decode(v, budget, depth + 1)
        return out
    raise Malformed(f"a value of type {type(value).__name__}")


_LINE = re.compile(r"\bline \d+")


def _unlined(value: Any) -> Any:
    return _LINE.sub("line ?", value) if isinstance(value, str) else value


def same(a: Any, b: Any, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """Whether two decoded observations are equal (tensors and floats within tolerance; two errors
    when their type, message key, message and parameters agree, wherever in the program they arose)."""
    if isinstance(a, ObservedError) or isinstance(b, ObservedError):
        if not (isinstance(a, ObservedError) and isinstance(b, ObservedError)):
            return False
        return (a.type, a.key, _unlined(a.message)) == (b.type, b.key, _unlined(b.message)) and {
            k: _unlined(v) for k, v in a.params.items()
        } == {k: _unlined(v) for k, v in b.params.items()}
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return isinstance(a, Tensor) and a.close(b, atol, rtol)
    if isinstance(a, float) or isinstance(b, float):
        if (
            isinstance(a, bool)
            or isinstance(b, bool)
            or not isinstance(a, (int, float))
            or not isinstance(b, (int, float))
        ):
            return False
        return a == b or abs(a - b) <= atol + rtol * abs(b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, atol, rtol) for x, y in zip(a, b, strict=False))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], atol, rtol) for k in a)
    return type(a) is type(b) and a == b
