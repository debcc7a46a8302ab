"""Diagnoses: small functions that recognise a classic mistake behind a failed check.

When a check fails, :func:`diagnose` tries every registered diagnosis whose
aspects include the check's aspect, in registry order, and the first one that
returns a :class:`Finding` explains the failure. A new diagnosis is one
function with the :func:`diagnosis` decorator and one message in
:mod:`questlab.grading.messages`; order matters only in that root causes
(a missing ``super().__init__()``) come before their symptoms (a wrong count).

Each function gets the :class:`~questlab.grading.api.Submission` and the
exception that failed the check, and returns a Finding or ``None``. It must
never raise; :func:`diagnose` treats an exception as "not recognised".
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from questlab.grading.core import ASPECTS, CheckFailed, Submission, learner_line
from questlab.grading.probes import layer_counts, named_buffers, named_parameters, stray_tensors


@dataclass
class Finding:
    """A recognised mistake: a message key of the catalog and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


DiagnosisFunc = Callable[[Submission, BaseException], "Finding | None"]


@dataclass
class Diagnosis:
    """A registered diagnosis: ``name`` (stable, shown in results) and the aspects it applies to."""

    name: str
    aspects: frozenset[str]
    func: DiagnosisFunc


DIAGNOSES: list[Diagnosis] = []


def diagnosis(name: str, *aspects: str) -> Callable[[DiagnosisFunc], DiagnosisFunc]:
    """Register a diagnosis for checks of ``aspects`` (none given: every aspect)."""
    chosen = frozenset(aspects or ASPECTS)

    def register(func: DiagnosisFunc) -> DiagnosisFunc:
        DIAGNOSES.append(Diagnosis(name, chosen, func))
        return func

    return register


def diagnose(sub: Submission, failure: BaseException, aspect: str = "any") -> tuple[str, Finding] | None:
    """Return ``(diagnosis name, finding)`` for the first diagnosis that recognises ``failure``."""
    for d in DIAGNOSES:
        if aspect != "any" and aspect not in d.aspects:
            continue
        try:
            finding = d.func(sub, failure)
        except Exception:  # a diagnosis that cannot tell is simply silent
            finding = None
        if finding is not None:
            return d.name, finding
    return None


# -- helpers -----------------------------------------------------------------------
def _exceptions(sub: Submission, failure: BaseException) -> list[BaseException]:
    found: list[BaseException] = [failure]
    if isinstance(failure, CheckFailed) and isinstance(failure.context.get("exception"), BaseException):
        found.append(failure.context["exception"])
    if failure.__cause__ is not None:
        found.append(failure.__cause__)
    if sub.exception is not None:
        found.append(sub.exception)
    return found


def _expected(failure: BaseException, kind: str) -> dict[str, Any]:
    """The check's ``expected_parameters`` or ``expected_buffers`` (``{name: shape}``), or ``{}``."""
    found = failure.context.get(f"expected_{kind}") if isinstance(failure, CheckFailed) else None
    return found if isinstance(found, dict) else {}


def _is_super_init(call: ast.AST) -> bool:
    """``super().__init__(...)``, ``super(C, self).__init__(...)`` or ``nn.Module.__init__(self)``."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return False
    if call.func.attr != "__init__":
        return False
    target = call.func.value
    if isinstance(target, ast.Call) and isinstance(target.func, ast.Name) and target.func.id == "super":
        return True
    return isinstance(target, (ast.Attribute, ast.Name)) and ast.unparse(target).endswith("Module")


def _init_order(cls: ast.ClassDef) -> tuple[int | None, tuple[str, int] | None] | None:
    """``(line of super().__init__() or None, (attr, line) of the first self.X = call)`` for ``__init__``."""
    for item in cls.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            super_line, first = None, None
            for node in ast.walk(item):
                if super_line is None and _is_super_init(node):
                    super_line = node.lineno
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                    for t in node.targets:
                        if not (isinstance(t, ast.Attribute) and ast.unparse(t.value) == "self"):
                            continue
                        if first is None or node.lineno < first[1]:
                            first = (t.attr, node.lineno)
            return super_line, first
    return None


# -- the diagnoses, root causes first -----------------------------------------------------
@diagnosis("super_init")
def super_init(sub: Submission, failure: BaseException) -> Finding | None:
    """``super().__init__()`` missing, or called after a submodule was assigned."""
    markers = ("Module.__init__()", "_parameters", "_modules", "_buffers", "_forward_hooks")
    if not any(any(m in str(e) for m in markers) for e in _exceptions(sub, failure)):
        return None
    tree = sub.tree()
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.ClassDef) and (order := _init_order(node)) is not None:
            super_line, first = order
            if super_line is None:
                return Finding("diag_super_init_missing", {"cls": node.name})
            if first is not None and first[1] < super_line:
                return Finding(
                    "diag_super_init_late", {"line": super_line, "attr": first[0], "assigned": first[1]}
                )
    return None


@diagnosis("plain_list")
def plain_list(sub: Submission, failure: BaseException) -> Finding | None:
    """Layers kept in a plain list, tuple or dict: point to nn.ModuleList / nn.ModuleDict."""
    import torch

    model = sub.try_model()
    if model is None:
        return None
    for prefix, module in model.named_modules():
        for attr, value in vars(module).items():
            if attr.startswith("_"):  # nn.Module's own bookkeeping (_modules, _parameters, ...)
                continue
            items = list(value.values()) if isinstance(value, dict) else value
            if isinstance(value, (list, tuple, dict)) and any(isinstance(v, torch.nn.Module) for v in items):
                is_dict = isinstance(value, dict)
                example = (
                    '{"a": nn.Linear(...), "b": nn.Linear(...)}'
                    if is_dict
                    else "[nn.Linear(...), nn.Linear(...)]"
                )
                return Finding(
                    "diag_plain_list",
                    {
                        "attr": f"{prefix}.{attr}" if prefix else attr,
                        "kind": type(value).__name__,
                        "container": "ModuleDict" if is_dict else "ModuleList",
                        "example": example,
                    },
                )
    return None


@diagnosis("plain_tensor")
def plain_tensor(sub: Submission, failure: BaseException) -> Finding | None:
    """A learnable tensor kept as a plain attribute instead of nn.Parameter.

    Learnable: it has ``requires_grad=True``, or the check expects a parameter of that name.
    """
    model = sub.try_model()
    wanted = _expected(failure, "parameters")
    for name, t in stray_tensors(model) if model is not None else []:
        if t.requires_grad or name in wanted:
            return Finding("diag_plain_tensor", {"attr": name, "shape": str(tuple(t.shape))})
    return None


@diagnosis("wrong_kind", "structure", "parameters", "state", "output")
def wrong_kind(sub: Submission, failure: BaseException) -> Finding | None:
    """A tensor the check expects as a parameter is registered as a buffer, or the other way round."""
    model = sub.try_model()
    if model is None:
        return None
    buffers, params = named_buffers(model), named_parameters(model)
    for name in _expected(failure, "parameters"):
        if name in buffers:
            return Finding("diag_buffer_not_parameter", {"attr": name})
    for name in _expected(failure, "buffers"):
        if name in params:
            return Finding("diag_parameter_not_buffer", {"attr": name})
    return None


@diagnosis("unregistered_buffer", "structure", "parameters", "state")
def unregistered_buffer(sub: Submission, failure: BaseException) -> Finding | None:
    """A tensor without gradients kept as a plain attribute: it should be a registered buffer.

    Tensors the check expects as parameters are left to ``plain_tensor``; ones it expects
    as buffers are named first.
    """
    model = sub.try_model()
    params, buffers = _expected(failure, "parameters"), _expected(failure, "buffers")
    found = [
        name
        for name, t in (stray_tensors(model) if model is not None else [])
        if not t.requires_grad and name not in params
    ]
    found.sort(key=lambda name: name not in buffers)
    return Finding("diag_unregistered_buffer", {"attr": found[0]}) if found else None


def _forward_calls(tree: ast.Module) -> list[ast.Call]:
    """Calls ``something.forward(...)`` other than ``super().forward(...)``, in source order."""
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "forward"
        and ast.unparse(node.func.value) != "super()"
    ]
    return sorted(calls, key=lambda node: (node.lineno, node.col_offset))


@diagnosis("forward_call", "forward", "hooks", "output")
def forward_call(sub: Submission, failure: BaseException) -> Finding | None:
    """``module.forward(x)`` called directly, which skips hooks: call ``module(x)``."""
    tree = sub.tree()
    calls = _forward_calls(tree) if tree else []
    if not calls:
        return None
    node = calls[0]
    assert isinstance(node.func, ast.Attribute)
    args = ", ".join(ast.unparse(a) for a in [*node.args, *node.keywords])
    return Finding(
        "diag_forward_call",
        {"line": node.lineno, "call": ast.unparse(node), "fixed": f"{ast.unparse(node.func.value)}({args})"},
    )


@diagnosis("layer_size", "structure", "parameters", "output")
def layer_size(sub: Submission, failure: BaseException) -> Finding | None:
    """Layers whose parameter count differs from the expected one, each with expected → actual."""
    expected = failure.context.get("expected_layers") if isinstance(failure, CheckFailed) else None
    model = sub.try_model()
    if not expected or model is None:
        return None
    actual = layer_counts(model)
    modules = dict(model.named_modules())
    rows = []
    for name, want in expected.items():
        got = actual.get(name)
        if got != want:
            shown = f"{got:,}" if got is not None else "-"
            module = modules.get(name)
            desc = f" [{type(module).__name__}({module.extra_repr()})]" if module is not None else ""
            rows.append(f"{name}: {want:,} → {shown}{desc}")
    if not rows or len(rows) == len(expected) and not any(n in actual for n in expected):
        return None  # nothing in common: a structural problem, not a size one
    return Finding("diag_layer_size", {"table": "; ".join(rows)})


@diagnosis("missing_activation", "forward")
def missing_activation(sub: Submission, failure: BaseException) -> Finding | None:
    """Two layers run back to back with no activation in between."""
    pair = failure.context.get("missing_between") if isinstance(failure, CheckFailed) else None
    if not pair:
        return None
    return Finding("diag_missing_activation", {"before": pair[0], "after": pair[1]})


@diagnosis("leaf_inplace")
def leaf_inplace(sub: Submission, failure: BaseException) -> Finding | None:
    """An in-place update of a leaf tensor that requires grad, outside ``torch.no_grad()``."""
    marker = "leaf Variable that requires grad is being used in an in-place operation"
    for e in _exceptions(sub, failure):
        if marker in str(e):
            line = learner_line(e)
            return Finding("diag_leaf_inplace_line" if line else "diag_leaf_inplace", {"line": line})
    return None
