"""The bridge between an exercise's ``checks.py`` and the runner.

:func:`build_harness` turns the checks' source into the trusted harness the
runner executes after the learner's code, in the same sandboxed process;
:func:`grading_from_run` turns the run's result into the grading results JSON.

The harness carries the sandbox side of the grading package with it, as
compiled code objects: the sandboxed child runs as an unprivileged user that
cannot count on reading the package's files, and unmarshalling is cheaper
than compiling source in every run. The runner's child runs the same Python
as the server, so the marshal format matches.
"""

from __future__ import annotations

import ast
import base64
import marshal
import zlib
from functools import cache
from pathlib import Path

from questlab.grading.results import grading_from_run

__all__ = ["build_harness", "declared_checks", "grading_from_run"]

#: Modules the sandbox needs, in load order (each imports only earlier ones).
SANDBOX_MODULES = ("core", "probes", "api", "diagnoses", "driver")

_LOADER = """\
import base64 as _b64, marshal as _marshal, sys as _sys, types as _types, zlib as _zlib
if "questlab.grading.driver" not in _sys.modules:
    _pkg = _types.ModuleType("questlab.grading")
    _pkg.__path__ = []
    _sys.modules["questlab.grading"] = _pkg
    for _name, _code in _marshal.loads(_zlib.decompress(_b64.b64decode({blob!r}))):
        _mod = _types.ModuleType("questlab.grading." + _name)
        _mod.__package__ = "questlab.grading"
        _sys.modules[_mod.__name__] = _mod
        exec(_code, _mod.__dict__)
        setattr(_pkg, _name, _mod)
from questlab.grading.driver import run_checks
run_checks({checks!r}, learner_ns, learner_exception, learner_stdout, report)
"""


@cache
def _bundle() -> str:
    here = Path(__file__).resolve().parent
    codes = [
        (
            name,
            compile((here / f"{name}.py").read_text(encoding="utf-8"), f"questlab/grading/{name}.py", "exec"),
        )
        for name in SANDBOX_MODULES
    ]
    return base64.b64encode(zlib.compress(marshal.dumps(codes), 6)).decode("ascii")


@cache
def build_harness(checks_source: str) -> str:
    """Return harness source that runs ``checks_source`` and ``report()``s the raw results.

    The runner gives the harness ``learner_ns``, ``learner_exception``,
    ``learner_stdout()`` and ``report()`` (see docs/runner.md); the report's
    shape is described in :mod:`questlab.grading.driver`.
    """
    return _LOADER.format(blob=_bundle(), checks=checks_source)


def _check_name(decorator: ast.expr) -> str | None:
    """The name of a ``@check("name", ...)`` (or ``@api.check(name="name")``) decorator, else ``None``."""
    if not isinstance(decorator, ast.Call):
        return None
    func = decorator.func
    if not (isinstance(func, ast.Name) and func.id == "check") and not (
        isinstance(func, ast.Attribute) and func.attr == "check"
    ):
        return None
    args = [*decorator.args[:1], *(k.value for k in decorator.keywords if k.arg == "name")]
    if len(args) != 1 or not isinstance(args[0], ast.Constant) or not isinstance(args[0].value, str):
        raise ValueError(f"line {decorator.lineno}: a check's name must be a string literal")
    return args[0].value


@cache
def declared_checks(checks_source: str) -> tuple[str, ...]:
    """The names of the checks ``checks_source`` declares, in order, read from its source on the server.

    A check is a function decorated with ``@check("name", ...)``; the name must be a string literal
    so that the server knows, without running anything, which tests an honest report lists.

    Raises:
        SyntaxError: when ``checks_source`` does not parse.
        ValueError: for a check whose name is not a string literal.
    """
    functions = sorted(
        (
            n
            for n in ast.walk(ast.parse(checks_source))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        ),
        key=lambda n: (n.lineno, n.col_offset),
    )
    names = []
    for node in functions:
        # Decorators apply bottom-up, so the one nearest the ``def`` registers first.
        names.extend(n for d in reversed(node.decorator_list) if (n := _check_name(d)) is not None)
    return tuple(names)
