"""Rule-based diagnoses: classic mistakes recognised from the source and the observations.

They run on the server, after a check failed and no mistake variant matched
(:mod:`questlab.grading.judge.grade`). Each rule gets the failure, the check's
aspect, the observations the check read and the program's AST, and returns
``(name, message key, params)`` or ``None``; it must never raise (an exception
counts as "not recognised").
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from typing import Any

from questlab.grading.judge.api import CheckFailed

Finding = tuple[str, str, dict[str, Any]]
Rule = Callable[[CheckFailed, str, list[Any], "ast.Module | None"], "Finding | None"]


def _is_super_init(call: ast.AST) -> bool:
    """``super().__init__(...)``, ``super(C, self).__init__(...)`` or ``nn.Module.__init__(self)``."""
    if (
        not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute))
        or call.func.attr != "__init__"
    ):
        return False
    target = call.func.value
    if isinstance(target, ast.Call) and isinstance(target.func, ast.Name) and target.func.id == "super":
        return True
    return isinstance(target, (ast.Attribute, ast.Name)) and ast.unparse(target).endswith("Module")


def _module_classes(tree: ast.Module) -> Iterable[ast.ClassDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any("Module" in ast.unparse(b) for b in node.bases):
            yield node


def super_init(
    failure: CheckFailed, aspect: str, values: list[Any], tree: ast.Module | None
) -> Finding | None:
    """An ``nn.Module`` subclass whose ``__init__`` never calls ``super().__init__()``."""
    if tree is None or failure.key not in ("init_raised", "observation_raised", "no_module_instance"):
        return None
    for cls in _module_classes(tree):
        for item in cls.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                if not any(_is_super_init(n) for n in ast.walk(item)):
                    return "super_init", "diag_super_init_missing", {"cls": cls.name}
    return None


def _descriptions(values: list[Any]) -> Iterable[dict[str, Any]]:
    for value in values:
        if isinstance(value, dict) and isinstance(value.get("plain"), list):
            yield value


def plain_container(
    failure: CheckFailed, aspect: str, values: list[Any], tree: ast.Module | None
) -> Finding | None:
    """Layers kept in a plain list or dict (seen by the probe's ``plain`` rows)."""
    if aspect not in ("structure", "parameters", "state", "forward", "any"):
        return None
    for desc in _descriptions(values):
        for row in desc["plain"]:
            if isinstance(row, list) and len(row) == 2 and row[1] in ("list of modules", "dict of modules"):
                is_dict = row[1] == "dict of modules"
                example = (
                    '{"a": nn.Linear(...), "b": nn.Linear(...)}'
                    if is_dict
                    else "[nn.Linear(...), nn.Linear(...)]"
                )
                return (
                    "plain_list",
                    "diag_plain_list",
                    {
                        "attr": str(row[0]),
                        "kind": "dict" if is_dict else "list",
                        "container": "ModuleDict" if is_dict else "ModuleList",
                        "example": example,
                    },
                )
    return None


def _parameter_then_to(tree: ast.Module) -> ast.Call | None:
    """``nn.Parameter(...).to(...)`` / ``.cuda()`` / ``.double()``: the result is a plain tensor."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("to", "cuda", "cpu", "double", "float", "half")
            and isinstance(node.func.value, ast.Call)
            and ast.unparse(node.func.value.func).split(".")[-1] == "Parameter"
        ):
            return node
    return None


def plain_tensor(
    failure: CheckFailed, aspect: str, values: list[Any], tree: ast.Module | None
) -> Finding | None:
    """A learnable tensor kept as a plain attribute; told apart from ``nn.Parameter(t).to(device)``.

    A plain tensor the failure names as a missing parameter is told to become an ``nn.Parameter``,
    one it names as a missing buffer a buffer, whether or not it requires grad. After a failed
    forward or output check, a plain tensor that requires no grad is not diagnosed: it could be
    either, and telling a weight to become a buffer would be wrong advice.
    """
    missing = re.findall(r"`([^`]+)`", str(failure.params.get("missing", "")))
    for desc in _descriptions(values):
        rows = [
            row
            for row in desc["plain"]
            if isinstance(row, list) and len(row) == 2 and str(row[1]).startswith("tensor")
        ]
        named = [row for row in rows if row[0] in missing]
        if named and failure.key in ("wrong_parameters", "wrong_buffers"):
            rows = named
        for row in rows:
            call = _parameter_then_to(tree) if tree is not None else None
            if call is not None:
                inner = ast.unparse(call.func.value)
                method = call.func.attr
                args = ", ".join(ast.unparse(a) for a in call.args)
                fixed = (
                    f"nn.Parameter({ast.unparse(call.func.value.args[0])}.{method}({args}))"
                    if call.func.value.args
                    else inner
                )
                return (
                    "parameter_to",
                    "diag_parameter_to",
                    {"line": call.lineno, "call": ast.unparse(call), "fixed": fixed},
                )
            if row[1] == "tensor (requires_grad)" or (
                failure.key == "wrong_parameters" and row[0] in missing
            ):
                return "plain_tensor", "diag_plain_tensor", {"attr": str(row[0]), "shape": "-"}
            if failure.key == "wrong_buffers" or aspect in ("state", "structure"):
                return "unregistered_buffer", "diag_unregistered_buffer", {"attr": str(row[0])}
            # A failed forward pass with a plain tensor that needs no grad: a weight or a buffer?
            # Nothing here says which, so the rule names neither (the parameters check will).
    return None


def _registered(desc: dict[str, Any], kind: str) -> set[str]:
    """Names of ``desc``'s registered ``parameters`` or ``buffers`` (rows start with the name)."""
    rows = desc.get(kind)
    if not isinstance(rows, list):
        return set()
    return {str(row[0]) for row in rows if isinstance(row, list) and row}


def wrong_kind(
    failure: CheckFailed, aspect: str, values: list[Any], tree: ast.Module | None
) -> Finding | None:
    """A tensor registered as the wrong kind: a buffer where a learnable ``nn.Parameter`` was
    expected (``wrong_parameters`` misses a name the buffers hold), or the reverse."""
    if failure.key not in ("wrong_parameters", "wrong_buffers"):
        return None
    missing = re.findall(r"`([^`]+)`", str(failure.params.get("missing", "")))
    other = "buffers" if failure.key == "wrong_parameters" else "parameters"
    for desc in (v for v in values if isinstance(v, dict)):
        found = [name for name in missing if name in _registered(desc, other)]
        if found:
            name = found[0]
            key = "diag_buffer_not_parameter" if other == "buffers" else "diag_parameter_not_buffer"
            return "wrong_kind", key, {"name": name, "attr": name.rpartition(".")[2]}
    return None


def forward_call(
    failure: CheckFailed, aspect: str, values: list[Any], tree: ast.Module | None
) -> Finding | None:
    """``module.forward(x)`` called directly, which skips hooks: call ``module(x)``."""
    if tree is None or aspect not in ("forward", "hooks", "output"):
        return None
    calls = sorted(
        (
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "forward"
            and ast.unparse(n.func.value) != "super()"
        ),
        key=lambda n: (n.lineno, n.col_offset),
    )
    if not calls:
        return None
    node = calls[0]
    args = ", ".join(ast.unparse(a) for a in [*node.args, *node.keywords])
    return (
        "forward_call",
        "diag_forward_call",
        {"line": node.lineno, "call": ast.unparse(node), "fixed": f"{ast.unparse(node.func.value)}({args})"},
    )


_ACTIVATIONS = {
    "ReLU",
    "GELU",
    "Tanh",
    "Sigmoid",
    "LeakyReLU",
    "SiLU",
    "ELU",
    "Softmax",
    "Dropout",
    "Flatten",
}


def module_class_not_instance(
    failure: CheckFailed, aspect: str, values: list[Any], tree: ast.Module | None
) -> Finding | None:
    """``nn.Sequential(nn.Linear(...), nn.ReLU, ...)``: a class where a module instance belongs."""
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in (
            "Sequential",
            "ModuleList",
        ):
            items = node.args
            if len(items) == 1 and isinstance(items[0], (ast.List, ast.Tuple)):
                items = items[0].elts
            for arg in items:
                if (
                    isinstance(arg, (ast.Attribute, ast.Name))
                    and ast.unparse(arg).split(".")[-1] in _ACTIVATIONS
                ):
                    return (
                        "class_not_instance",
                        "diag_class_not_instance",
                        {"line": arg.lineno, "name": ast.unparse(arg)},
                    )
    return None


#: The rules in the order they are tried: root causes before their symptoms.
RULES: list[Rule] = [
    super_init,
    module_class_not_instance,
    plain_container,
    wrong_kind,
    plain_tensor,
    forward_call,
]


def diagnose(failure: CheckFailed, aspect: str, values: list[Any], tree: ast.Module | None) -> Finding | None:
    """The first rule's finding for a failed check, or ``None``."""
    for rule in RULES:
        try:
            found = rule(failure, aspect, values, tree)
        except Exception:  # a rule that cannot read this program does not recognise it
            found = None
        if found is not None:
            return found
    return None
