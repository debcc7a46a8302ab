"""The harness sent with a program: the sandbox side's code, ``probe.py`` and the seed.

The sandboxed child runs as an unprivileged user that cannot count on reading
the package's files, so the sandbox modules travel as compiled code objects
(the child runs the same Python as the server, so the marshal format matches).
Only :mod:`questlab.grading.sandbox` and the exercise's ``probe.py`` go in:
never ``checks.py``, ``solution.py`` or the mistake variants.

The seed is in the harness, so a program that searches its own process can
find it. That is by design: the seed only chooses inputs and parameter values,
and knowing it does not help a program produce the reference's outputs
without computing them (docs/grading.md).
"""

from __future__ import annotations

import base64
import marshal
import zlib
from functools import cache
from pathlib import Path

#: Sandbox modules in load order (each imports only earlier ones).
SANDBOX_MODULES = ("inputs", "wire", "observe", "__init__", "driver")

_LOADER = """\
import base64 as _b64, marshal as _marshal, sys as _sys, types as _types, zlib as _zlib
def _package(name):
    if name not in _sys.modules:
        mod = _types.ModuleType(name)
        mod.__path__ = []
        _sys.modules[name] = mod
    return _sys.modules[name]
_package("questlab"); _package("questlab.grading")
_sandbox = _types.ModuleType("questlab.grading.sandbox")
_sandbox.__path__ = []
_sandbox.__package__ = "questlab.grading.sandbox"
_sys.modules["questlab.grading.sandbox"] = _sandbox
for _name, _code in _marshal.loads(_zlib.decompress(_b64.b64decode({blob!r}))):
    if _name == "__init__":
        exec(_code, _sandbox.__dict__)
        continue
    _mod = _types.ModuleType("questlab.grading.sandbox." + _name)
    _mod.__package__ = "questlab.grading.sandbox"
    _sys.modules[_mod.__name__] = _mod
    exec(_code, _mod.__dict__)
    setattr(_sandbox, _name, _mod)
_run_probe = _sys.modules["questlab.grading.sandbox.driver"].run_probe
_run_probe({probe!r}, {seed!r}, learner_ns, learner_exception, report)
"""


@cache
def _bundle() -> str:
    here = Path(__file__).resolve().parent.parent / "sandbox"
    codes = [
        (
            name,
            compile(
                (here / f"{name}.py").read_text(encoding="utf-8"),
                f"questlab/grading/sandbox/{name}.py",
                "exec",
            ),
        )
        for name in SANDBOX_MODULES
    ]
    return base64.b64encode(zlib.compress(marshal.dumps(codes), 6)).decode("ascii")


def probe_harness(probe_source: str, seed: int) -> str:
    """Harness source that runs ``probe_source``'s observations with ``seed`` and reports them.

    Args:
        probe_source: the exercise's ``probe.py``.
        seed: the submission's seed, an int in ``[0, 2**63)``.

    The runner gives the harness ``learner_ns``, ``learner_exception`` and ``report()``
    (docs/runner.md); the report is described in :mod:`questlab.grading.sandbox.driver`.
    """
    return _LOADER.format(blob=_bundle(), probe=probe_source, seed=int(seed))
