"""Probes: what an exercise's ``probe.py`` uses to observe a program (sandbox side).

``@observation("name")`` registers a function ``f(sub) -> data``; the driver
(:mod:`questlab.grading.sandbox.driver`) calls each one after the program ran
and reports its encoded return value, or the error it raised. The data is
only evidence: :mod:`questlab.grading.judge` compares it with the reference
solution's observations of the same seed.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from questlab.grading.sandbox.inputs import Inputs

#: File name the runner compiles learner code under (see questlab.runner.child).
LEARNER_FILE = "main.py"

#: Largest module output observed (elements); larger ones are reported as too large.
MAX_OUTPUT_ELEMENTS = 4096

#: ``(name, function)`` of every registered observation, in ``probe.py`` order.
OBSERVATIONS: list[tuple[str, Callable[[Submission], Any]]] = []


class Unobservable(Exception):
    """The program does not have what an observation looks for.

    Args:
        key: a message key of :data:`questlab.grading.messages.MESSAGES` (for example
            ``no_module_class``), which the judge turns into the failed check's sentence.
        params: the message's placeholders (plain strings and numbers).
    """

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = {k: v if isinstance(v, (str, int, float, bool)) else str(v) for k, v in params.items()}


def observation(name: str) -> Callable[[Callable[[Submission], Any]], Callable[[Submission], Any]]:
    """Register the decorated ``f(sub)`` as the observation ``name`` (a string literal, unique)."""

    def register(func: Callable[[Submission], Any]) -> Callable[[Submission], Any]:
        OBSERVATIONS.append((name, func))
        return func

    return register


def learner_line(exc: BaseException) -> int | None:
    """The last line of the program's file in ``exc``'s traceback, or ``None``."""
    if isinstance(exc, SyntaxError) and exc.filename == LEARNER_FILE:
        return exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == LEARNER_FILE]
    return frames[-1].lineno if frames else None


def error_data(exc: BaseException) -> dict[str, Any]:
    """``{"$error": {"type", "message", "line", "key", "params"}}`` for ``exc`` (JSON-ready)."""
    from questlab.grading.sandbox.wire import Unencodable

    if isinstance(exc, Unencodable):
        return {
            "$error": {
                "type": "Unencodable",
                "message": "",
                "line": None,
                "key": "observation_unencodable",
                "params": {"error": str(exc)[:300]},
            }
        }
    if isinstance(exc, Unobservable):
        return {
            "$error": {
                "type": "Unobservable",
                "message": "",
                "line": None,
                "key": exc.key,
                "params": exc.params,
            }
        }
    try:
        message = str(exc)
    except Exception:  # a hostile __str__
        message = ""
    return {
        "$error": {
            "type": type(exc).__name__[:100],
            "message": message[:500],
            "line": learner_line(exc),
            "key": None,
            "params": {},
        }
    }


@dataclass
class Submission:
    """What the program left behind, as the probes see it.

    Attributes:
        ns: the program's global namespace after it ran.
        inputs: the run's seeded :class:`~questlab.grading.sandbox.inputs.Inputs`.
    """

    ns: dict[str, Any]
    inputs: Inputs

    def value(self, name: str) -> Any:
        """The global ``name``. Raises :class:`Unobservable` (``no_value``) when it is missing."""
        if name not in self.ns:
            raise Unobservable("no_value", name=name)
        return self.ns[name]

    def function(self, name: str) -> Callable[..., Any]:
        """The callable global ``name``. Raises :class:`Unobservable` (``no_function``)."""
        value = self.ns.get(name)
        if not callable(value) or isinstance(value, type):
            raise Unobservable("no_function", name=name)
        return value

    def module_class(self, name: str) -> type:
        """The ``nn.Module`` subclass ``name`` defined by the program. Raises ``no_module_class``."""
        import torch

        cls = self.ns.get(name)
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
            raise Unobservable("no_module_class", name=name)
        return cls

    def model(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """A new instance of the program's class ``name``, built with ``args``.

        The global torch seed is set from the run's seed first, so two runs with one seed
        build identically initialised models.

        Raises:
            Unobservable: ``no_module_class``, or ``init_raised`` when the constructor raises.
        """
        import torch

        cls = self.module_class(name)
        torch.manual_seed(self.inputs.seed_for("model:" + name))
        try:
            return cls(*args, **kwargs)
        except Exception as exc:
            line = learner_line(exc)
            raise Unobservable(
                "init_raised",
                cls=name,
                error=f"{type(exc).__name__}: {exc}"[:300] + (f" (line {line})" if line else ""),
            ) from exc

    def instance(self, name: str, cls: str = "Model") -> Any:
        """The ``nn.Module`` object bound to the global ``name``. Raises ``no_module_instance``."""
        import torch

        value = self.ns.get(name)
        if not isinstance(value, torch.nn.Module):
            raise Unobservable("no_module_instance", name=name, cls=cls)
        return value


def _plain_attributes(module: Any, prefix: str) -> list[list[str]]:
    """Attributes holding modules or tensors outside PyTorch's registries: ``[name, what]``."""
    import torch

    found = []
    for attr, value in vars(module).items():
        if attr.startswith("_") or attr == "training":
            continue
        what = None
        if isinstance(value, torch.nn.Parameter):
            what = "parameter"
        elif isinstance(value, torch.Tensor):
            what = "tensor (requires_grad)" if value.requires_grad else "tensor"
        elif isinstance(value, torch.nn.Module):
            what = "module"
        elif isinstance(value, (list, tuple)) and any(isinstance(v, torch.nn.Module) for v in value):
            what = "list of modules"
        elif isinstance(value, dict) and any(isinstance(v, torch.nn.Module) for v in value.values()):
            what = "dict of modules"
        if what:
            found.append([prefix + attr, what])
    return found


def _bound(shape: tuple[int, ...]) -> float:
    fan_in = 1
    for n in shape[1:] if len(shape) > 1 else shape:
        fan_in *= int(n)
    return 1.0 / max(1, fan_in) ** 0.5


def describe_module(
    module: Any,
    inputs: dict[str, tuple[int, ...]] | None = None,
    *,
    fill: bool = True,
) -> dict[str, Any]:
    """Observe an ``nn.Module``: its structure, and its outputs on seeded inputs.

    Args:
        module: the program's module.
        inputs: ``{name: shape}`` of N(0, 1) inputs drawn from the run's seed (by ``name``).
        fill: overwrite every parameter with seeded values before computing outputs, so that
            outputs compare with the reference's whatever initialisation the program used.
            Parameters are filled module by module in the order a first forward pass calls
            the modules (registration order for those not called), each from U(-b, b) with
            b = 1/sqrt(fan_in).

    Returns:
        ``{"class", "training", "tree": [[name, class, extra_repr]], "parameters": [[name,
        shape, requires_grad]], "buffers": [[name, shape, persistent]], "plain": [[name, what]],
        "calls": [module names in first-call order], "hooks": [names whose forward hooks fired
        when the module was called], "outputs": {input name: tensor or error}}``; names are
        qualified (``"trunk.fc1"``), the root is ``""``.

    Raises:
        Unobservable: ``not_a_module`` when ``module`` is not an ``nn.Module``.
    """
    import torch

    if not isinstance(module, torch.nn.Module):
        raise Unobservable("not_a_module", kind=type(module).__name__)
    source = CURRENT["inputs"]
    modules = list(module.named_modules(remove_duplicate=False))
    tree = []
    plain: list[list[str]] = []
    for name, sub in modules:
        try:
            extra = sub.extra_repr()
        except Exception:
            extra = "?"
        tree.append([name, type(sub).__name__, str(extra)[:300]])
        plain.extend(_plain_attributes(sub, f"{name}." if name else ""))
    buffers = []
    for name, buf in module.named_buffers():
        owner_name, _, leaf = name.rpartition(".")
        owner = module.get_submodule(owner_name) if owner_name else module
        buffers.append([name, list(buf.shape), leaf not in owner._non_persistent_buffers_set])
    description: dict[str, Any] = {
        "class": type(module).__name__,
        "training": bool(module.training),
        "tree": tree,
        "parameters": [[n, list(p.shape), bool(p.requires_grad)] for n, p in module.named_parameters()],
        "buffers": buffers,
        "plain": plain,
        "calls": [],
        "hooks": [],
        "outputs": {},
    }
    if not inputs:
        return description
    names = {id(m): n for n, m in reversed(modules)}
    calls: dict[str, None] = {}  # first-call order (dicts keep insertion order)
    fired: dict[str, None] = {}
    handles = []
    for _, sub in module.named_modules():
        name = names.get(id(sub), "?")
        handles.append(sub.register_forward_pre_hook(lambda m, args, name=name: calls.setdefault(name)))
        handles.append(sub.register_forward_hook(lambda m, args, out, name=name: fired.setdefault(name)))
    try:
        drawn = {key: source.randn(key, *shape) for key, shape in inputs.items()}
        # The call order comes from one forward pass on the smallest input.
        first = min(drawn, key=lambda key: drawn[key].numel())
        with torch.no_grad():
            try:
                module(drawn[first].clone())
            except Exception:
                pass  # the output below records the error
            if fill:
                order = [n for n in calls if n != "?"]
                order += [n for n, _ in module.named_modules() if n not in order]
                index = 0
                for name in order:
                    owner = module.get_submodule(name) if name else module
                    for _, p in owner.named_parameters(recurse=False):
                        value = source.fill(f"param:{index}", *p.shape, bound=_bound(tuple(p.shape)))
                        p.copy_(value.to(p.dtype))
                        index += 1
            description["calls"] = list(calls)
            fired.clear()
            for key, x in drawn.items():
                try:
                    out = module(x)
                    if isinstance(out, torch.Tensor) and out.numel() > MAX_OUTPUT_ELEMENTS:
                        raise Unobservable(
                            "output_too_large", input=key, shape=str(tuple(out.shape)), numel=out.numel()
                        )
                    description["outputs"][key] = out
                except Exception as exc:
                    description["outputs"][key] = error_data(exc)
            description["hooks"] = list(fired)
    finally:
        for handle in handles:
            handle.remove()
    return description


#: The probe run in progress (set by the driver): ``{"inputs": Inputs}``.
CURRENT: dict[str, Any] = {}
