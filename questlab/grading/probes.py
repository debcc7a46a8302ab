"""PyTorch probes for checks: what a module holds, what it computes, how it behaves.

Plain functions that take an ``nn.Module``. The ``expect_*`` ones raise
:class:`~questlab.grading.api.CheckFailed` with a catalog message when the
module is not as expected; the others return facts. They import torch lazily,
so the grading package imports without it.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Callable, Iterable
from typing import Any

from questlab.grading.core import CheckFailed, Submission, describe

#: Names of torch functions that make a network non-linear (as seen by a TorchFunctionMode).
ACTIVATIONS = frozenset(
    {
        "relu",
        "relu_",
        "relu6",
        "gelu",
        "sigmoid",
        "sigmoid_",
        "tanh",
        "tanh_",
        "silu",
        "leaky_relu",
        "leaky_relu_",
        "elu",
        "elu_",
        "selu",
        "celu",
        "softplus",
        "mish",
        "hardtanh",
        "hardswish",
        "hardsigmoid",
        "prelu",
        "rrelu",
        "softmax",
        "log_softmax",
        "glu",
        "threshold",
        "clamp",
        "clamp_",
        "clamp_min",
        "clamp_min_",
        "maximum",
        "logsigmoid",
        "softsign",
        "tanhshrink",
    }
)


def _names(items: Iterable[str], limit: int = 6) -> str:
    items = list(items)
    if not items:
        return "-"
    shown = ", ".join(f"`{i}`" for i in items[:limit])
    return shown + (f" (+{len(items) - limit})" if len(items) > limit else "")


def _shape(shape: Any) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(tuple(shape)) == 1 else "") + ")"


# -- what a module holds -------------------------------------------------------
def module_tree(model: Any) -> list[dict[str, Any]]:
    """Every submodule, depth first: ``[{"name": "fc1", "class": "Linear", "params": 200960}]``.

    ``name`` is dotted (``"blocks.0.conv"``); the root module is ``""``; ``params``
    counts the submodule's parameters including its children's.
    """
    return [
        {"name": name, "class": type(m).__name__, "params": count_params(m)}
        for name, m in model.named_modules()
    ]


def named_parameters(model: Any) -> dict[str, tuple[int, ...]]:
    """Registered parameters as ``{dotted name: shape}``."""
    return {name: tuple(p.shape) for name, p in model.named_parameters()}


def named_buffers(model: Any) -> dict[str, tuple[int, ...]]:
    """Registered buffers as ``{dotted name: shape}``."""
    return {name: tuple(b.shape) for name, b in model.named_buffers()}


def count_params(model: Any, trainable_only: bool = False) -> int:
    """Number of parameter elements (only those with ``requires_grad`` when ``trainable_only``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def layer_counts(model: Any) -> dict[str, int]:
    """Parameters per submodule that holds parameters itself: ``{"fc1": 200960, ...}``."""
    return {
        name or "(model)": sum(p.numel() for p in m.parameters(recurse=False))
        for name, m in model.named_modules()
        if any(True for _ in m.parameters(recurse=False))
    }


def stray_tensors(model: Any) -> list[tuple[str, Any]]:
    """Tensors kept as plain attributes (neither parameters nor buffers), with dotted names.

    These do not appear in ``parameters()`` or ``state_dict()`` and do not move with ``.to()``.
    """
    import torch

    found = []
    for prefix, module in model.named_modules():
        for attr, value in vars(module).items():
            if isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter):
                found.append((f"{prefix}.{attr}" if prefix else attr, value))
    return found


# -- what it computes ------------------------------------------------------------
def forward(model: Any, x: Any, call: Callable[[Any, Any], Any] | None = None) -> Any:
    """``model(x)`` without gradients (or ``call(model, x)``).

    Raises:
        CheckFailed: ``forward_raised`` when the learner's code raises.
    """
    import torch

    try:
        with torch.no_grad():
            return call(model, x) if call else model(x)
    except Exception as e:
        raise CheckFailed(
            "forward_raised",
            params={"shape": _shape(x.shape), "error": describe(e)},
            context={"exception": e},
        ) from e


def expect_output_shape(model: Any, x: Any, shape: tuple[int, ...]) -> Any:
    """Check that ``model(x)`` has ``shape``; return the output.

    Raises:
        CheckFailed: ``forward_raised`` or ``wrong_output_shape``.
    """
    import torch

    out = forward(model, x)
    actual = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
    if actual != tuple(shape):
        raise CheckFailed(
            "wrong_output_shape",
            params={
                "input": _shape(x.shape),
                "actual": _shape(actual) if isinstance(actual, tuple) else actual,
                "expected": _shape(shape),
            },
        )
    return out


def expect_output_close(actual: Any, expected: Any, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Check that two tensors are close (``torch.allclose`` rules, same shape).

    Raises:
        CheckFailed: ``wrong_output_shape`` or ``wrong_output_values``.
    """
    import torch

    if tuple(actual.shape) != tuple(expected.shape):
        raise CheckFailed(
            "wrong_output_shape",
            params={"input": "-", "actual": _shape(actual.shape), "expected": _shape(expected.shape)},
        )
    if not torch.allclose(actual.double(), expected.double(), atol=atol, rtol=rtol):
        diff = float((actual.double() - expected.double()).abs().max())
        raise CheckFailed("wrong_output_values", params={"diff": diff, "atol": atol})


def expect_parameters(model: Any, expected: dict[str, tuple[int, ...]]) -> None:
    """Check the registered parameters' dotted names and shapes exactly.

    Raises:
        CheckFailed: ``wrong_parameters`` naming missing, unexpected and mis-shaped ones.
    """
    _expect_named_shapes(named_parameters(model), expected, "wrong_parameters", "expected_parameters")


def _expect_named_shapes(
    actual: dict[str, Any], expected: dict[str, tuple[int, ...]], key: str, context_key: str
) -> None:
    """Compare ``{dotted name: shape}`` maps exactly.

    Raises:
        CheckFailed: ``key`` naming missing, unexpected and mis-shaped entries, with the expected
            map as ``context[context_key]`` for the diagnoses.
    """
    missing = [n for n in expected if n not in actual]
    extra = [n for n in actual if n not in expected]
    wrong = [
        f"{n} {_shape(actual[n])} ≠ {_shape(s)}"
        for n, s in expected.items()
        if n in actual and tuple(actual[n]) != tuple(s)
    ]
    if missing or extra or wrong:
        raise CheckFailed(
            key,
            params={"missing": _names(missing), "extra": _names(extra), "wrong": _names(wrong)},
            context={context_key: {k: list(v) for k, v in expected.items()}},
        )


def expect_buffers(
    model: Any, expected: dict[str, tuple[int, ...]], non_persistent: Iterable[str] = ()
) -> None:
    """Check the registered buffers' dotted names and shapes exactly, and which stay out of ``state_dict()``.

    ``non_persistent`` names the buffers registered with ``persistent=False``; every
    other buffer in ``expected`` must be persistent.

    Raises:
        CheckFailed: ``wrong_buffers`` naming missing, unexpected and mis-shaped ones;
            ``buffer_should_not_persist`` or ``buffer_should_persist`` for the first buffer
            with the wrong ``persistent`` flag.
    """
    context = {"expected_buffers": {k: list(v) for k, v in expected.items()}}
    _expect_named_shapes(named_buffers(model), expected, "wrong_buffers", "expected_buffers")
    modules = dict(model.named_modules())
    transient = set(non_persistent)
    for name in expected:
        owner, _, attr = name.rpartition(".")
        persists = attr not in modules[owner]._non_persistent_buffers_set
        if name in transient and persists:
            raise CheckFailed(
                "buffer_should_not_persist", params={"name": name, "attr": attr}, context=context
            )
        if name not in transient and not persists:
            raise CheckFailed("buffer_should_persist", params={"name": name, "attr": attr}, context=context)


def expect_total(model: Any, total: int, layers: dict[str, int] | None = None) -> None:
    """Check the total parameter count; ``layers`` (``{"fc1": 200960}``) lets a diagnosis show each layer.

    Raises:
        CheckFailed: ``wrong_total``.
    """
    actual = count_params(model)
    if actual != total:
        raise CheckFailed(
            "wrong_total",
            params={"actual": actual, "expected": total},
            context={"expected_layers": layers or {}},
        )


def expect_layers(model: Any, expected: dict[str, Any]) -> None:
    """Check submodules by dotted name against template modules, e.g. ``{"fc1": nn.Linear(784, 256)}``.

    A submodule matches when it has the template's class and ``extra_repr()``.

    Raises:
        CheckFailed: ``missing_submodule`` or ``wrong_submodule`` for the first mismatch.
    """
    modules = dict(model.named_modules())
    counts = {name: count_params(t) for name, t in expected.items()}
    for name, template in expected.items():
        want = f"nn.{type(template).__name__}({template.extra_repr()})"
        got = modules.get(name)
        if got is None:
            raise CheckFailed(
                "missing_submodule",
                params={"name": name, "expected": want},
                context={"expected_layers": counts},
            )
        if type(got) is not type(template) or got.extra_repr() != template.extra_repr():
            raise CheckFailed(
                "wrong_submodule",
                params={
                    "name": name,
                    "expected": want,
                    "actual": f"{type(got).__name__}({got.extra_repr()})",
                },
                context={"expected_layers": counts},
            )


def call_trace(model: Any, x: Any, call: Callable[[Any, Any], Any] | None = None) -> list[tuple[str, str]]:
    """What happens when the model runs: ``[("module", "fc1"), ("function", "relu"), ...]``.

    Submodules appear when they are called (forward pre-hooks, leaves only);
    torch functions appear through a ``TorchFunctionMode``, so ``F.relu``,
    ``torch.relu``, ``x.relu()`` and ``nn.ReLU`` all show up as ``relu``.
    """
    from torch.overrides import TorchFunctionMode

    events: list[tuple[str, str]] = []

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            events.append(("function", getattr(func, "__name__", str(func))))
            return func(*args, **(kwargs or {}))

    handles = [
        m.register_forward_pre_hook(lambda _m, _a, name=name: events.append(("module", name)))
        for name, m in model.named_modules()
        if name and not any(True for _ in m.children())
    ]
    try:
        with Recorder():
            forward(model, x, call)
    finally:
        for h in handles:
            h.remove()
    return events


def expect_nonlinear(model: Any, x: Any, layers: list[str]) -> None:
    """Check that an activation runs between each pair of ``layers`` and none after the last one.

    Raises:
        CheckFailed: ``layers_not_called``, ``not_nonlinear`` (context ``missing_between``: the first pair
            without one) or ``activation_after_last``.
    """
    seen: list[str] = []  # layer names, with "*" after each one followed by an activation
    for kind, name in call_trace(model, x):
        if kind == "module" and name in layers:
            seen.append(name)
        elif kind == "function" and name in ACTIVATIONS and seen and seen[-1] != "*":
            seen.append("*")
    missing = [name for name in layers if name not in seen]
    if missing:
        raise CheckFailed("layers_not_called", params={"names": _names(missing)})
    for before, after in zip(seen, seen[1:], strict=False):
        if before != "*" and after != "*":
            raise CheckFailed("not_nonlinear", context={"missing_between": [before, after]})
    if seen and seen[-1] == "*" and len(seen) > 1 and seen[-2] == layers[-1]:
        raise CheckFailed("activation_after_last", params={"layer": layers[-1]})


def hooks_fired(model: Any, x: Any, call: Callable[[Any, Any], Any] | None = None) -> set[str]:
    """Dotted names of submodules whose forward hooks fired while ``call(model, x)`` ran."""
    fired: set[str] = set()
    handles = [
        m.register_forward_hook(lambda _m, _i, _o, name=name: fired.add(name or "(model)"))
        for name, m in model.named_modules()
    ]
    try:
        forward(model, x, call)
    finally:
        for h in handles:
            h.remove()
    return fired


def expect_hooks_fire(
    model: Any, x: Any, names: Iterable[str], call: Callable[[Any, Any], Any] | None = None
) -> None:
    """Check that the forward hooks of every submodule in ``names`` fire when the model is called.

    Raises:
        CheckFailed: ``hooks_not_fired``.
    """
    missing = [n for n in names if n not in hooks_fired(model, x, call)]
    if missing:
        raise CheckFailed("hooks_not_fired", params={"modules": _names(missing)})


# -- how it behaves ----------------------------------------------------------------
def expect_moves(model: Any, target: Any = None) -> None:
    """Check that every tensor the model holds moves with ``model.to(target)`` (on a copy).

    ``target`` defaults to ``torch.float64``: a dtype move uses the same machinery
    as a device move and works on machines without a GPU; pass ``"cuda"`` or
    ``"meta"`` to move devices instead.

    Raises:
        CheckFailed: ``not_moved`` naming the tensors left behind.
    """
    import torch

    target = torch.float64 if target is None else target
    moved = copy.deepcopy(model).to(target)

    def where(t: Any) -> Any:
        return t.dtype if isinstance(target, torch.dtype) else t.device.type

    want = target if isinstance(target, torch.dtype) else torch.device(target).type
    left = [
        name
        for name, t in [*moved.named_parameters(), *moved.named_buffers(), *stray_tensors(moved)]
        if t.is_floating_point() and where(t) != want
    ]
    if left:
        raise CheckFailed("not_moved", params={"target": str(target), "names": _names(left)})


def _save_and_load(state: Any) -> Any:
    import torch

    try:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        buffer.seek(0)
        return torch.load(buffer, weights_only=True)
    except ImportError:  # torch.save imports a serializer lazily; a sandbox may not be able to
        return copy.deepcopy(state)


def expect_state_dict(
    model: Any,
    keys: Iterable[str] | None = None,
    make: Callable[[], Any] | None = None,
    x: Any = None,
    serialize: bool = False,
) -> None:
    """Check ``state_dict()`` keys and, with ``make`` and ``x``, a save/load round trip.

    The round trip loads a copy of the state into ``make()`` with ``load_state_dict``
    (strict) and compares ``model(x)`` with the new model's output. With
    ``serialize`` the copy goes through ``torch.save``/``torch.load`` in memory
    (slower: about 20 ms in the sandbox).

    Raises:
        CheckFailed: ``state_dict_keys`` or ``state_dict_roundtrip``.
    """
    import torch

    state = model.state_dict()
    if keys is not None:
        keys = list(keys)
        missing = [k for k in keys if k not in state]
        extra = [k for k in state if k not in keys]
        if missing or extra:
            raise CheckFailed("state_dict_keys", params={"missing": _names(missing), "extra": _names(extra)})
    if make is not None and x is not None:
        loaded = _save_and_load(state) if serialize else copy.deepcopy(state)
        other = make()
        try:
            other.load_state_dict(loaded)
        except Exception as e:
            raise CheckFailed("state_dict_roundtrip", context={"exception": e}) from e
        model.eval()
        other.eval()
        if not torch.allclose(forward(model, x), forward(other, x)):
            raise CheckFailed("state_dict_roundtrip")


def expect_modes(model: Any, x: Any = None, differs: bool = False) -> None:
    """Check ``train()``/``eval()``: every submodule follows, and (``differs``) outputs change with the mode.

    With ``differs``, two train-mode outputs for ``x`` must differ from each other
    or from the eval output (dropout, batch norm), and two eval outputs must agree.

    Raises:
        CheckFailed: ``mode_flag`` or ``train_eval``.
    """
    import torch

    for mode, flag in (("train", True), ("eval", False)):
        getattr(model, mode)()
        for name, m in model.named_modules():
            if m.training != flag:
                raise CheckFailed(
                    "mode_flag", params={"mode": mode, "name": name or "(model)", "actual": m.training}
                )
    if differs and x is not None:
        model.eval()
        e1, e2 = forward(model, x), forward(model, x)
        if not torch.allclose(e1, e2):
            raise CheckFailed("train_eval", params={"detail": "eval() outputs differ between calls"})
        model.train()
        t1 = forward(model, x)
        model.eval()
        if torch.allclose(t1, e1):
            raise CheckFailed("train_eval", params={"detail": "train() and eval() outputs are identical"})


# -- what it printed -----------------------------------------------------------------
def expect_printed(sub: Submission, line: str) -> None:
    """Check that the program printed ``line`` (trailing spaces ignored).

    Raises:
        CheckFailed: ``output_missing_line``.
    """
    if line.rstrip() not in sub.output_lines():
        raise CheckFailed("output_missing_line", params={"line": line})


def expect_printed_pattern(
    sub: Submission, pattern: str, expected: str | None = None, example: str | None = None
) -> str:
    """Check that a printed line matches the regex ``pattern``; with ``expected``, its group 1 equals it.

    Returns:
        The first matching line.

    Raises:
        CheckFailed: ``output_missing_pattern`` or ``output_wrong_value``.
    """
    regex = re.compile(pattern)
    matches = [(line, m) for line in sub.output_lines() if (m := regex.fullmatch(line.strip()))]
    if not matches:
        raise CheckFailed("output_missing_pattern", params={"example": example or pattern})
    if expected is not None:
        for line, m in matches:
            if (m.group(1) if m.groups() else m.group(0)) == expected:
                return line
        raise CheckFailed(
            "output_wrong_value", params={"actual": matches[-1][0].strip(), "expected": example or expected}
        )
    return matches[0][0]
