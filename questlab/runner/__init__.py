"""Sandboxed execution of learner Python with real PyTorch, in milliseconds.

Public interface::

    from questlab.runner import (RunLimits, RunResult, RunnerService,
                                 RunnerBusy, RunnerStarting, RunnerUnavailable, RESULT_VERSION,
                                 SandboxUnavailable)

See ``docs/runner.md`` for the result schema, limits and sandbox modes.
"""

from questlab.runner.limits import RunLimits
from questlab.runner.result import RESULT_VERSION, RunResult
from questlab.runner.sandbox import SandboxUnavailable
from questlab.runner.service import RunnerBusy, RunnerService, RunnerStarting, RunnerUnavailable

__all__ = [
    "RESULT_VERSION",
    "RunLimits",
    "RunResult",
    "RunnerBusy",
    "RunnerService",
    "RunnerStarting",
    "RunnerUnavailable",
    "SandboxUnavailable",
]
