"""Resource limits for one run, and the sentences that name them.

Every limit of a run is declared once, here, as a field of :class:`RunLimits`
with its default and unit; the operator documentation (``docs/runner.md``) and
a test read the same table (:data:`LIMIT_HELP`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

#: (field name, unit, what it limits) for every field of RunLimits.
LIMIT_HELP: dict[str, tuple[str, str]] = {
    "cpu_seconds": ("s", "CPU time of the whole run, all its processes together"),
    "wall_seconds": ("s", "wall-clock time from the start of the run to its end"),
    "memory_mb": ("MB", "memory of the whole run (RAM and scratch files), cgroup-enforced"),
    "processes": ("", "processes and threads alive at once in the run"),
    "file_size_mb": ("MB", "size of any one file the run writes"),
    "open_files": ("", "file descriptors open at once in one process"),
    "output_bytes": ("bytes", "stdout and stderr together; the run is stopped at the cap"),
    "scratch_mb": ("MB", "size of the private scratch folder (cwd, /tmp and /dev/shm)"),
}


@dataclass(frozen=True)
class RunLimits:
    """Limits applied to one run; the defaults suit a lesson's code block.

    All fields must be positive. ``cpu_seconds`` is enforced twice: the parent
    stops the run once the run's cgroup has used that much CPU (checked every
    50 ms) and the kernel's ``RLIMIT_CPU`` (rounded up to whole seconds) kills a
    single process that gets there first.

    Raises:
        ValueError: from :meth:`validate` when a field is not positive.
    """

    cpu_seconds: float = 5.0
    wall_seconds: float = 10.0
    memory_mb: int = 512
    processes: int = 64
    file_size_mb: int = 16
    open_files: int = 256
    output_bytes: int = 64_000
    scratch_mb: int = 64

    def validate(self) -> RunLimits:
        """Return self when every field is a positive number.

        Raises:
            ValueError: naming the first field that is not positive.
        """
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"RunLimits.{f.name} must be a positive number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"RunLimits.{f.name} must be finite, got {value!r}")
        return self

    def to_json(self) -> dict[str, Any]:
        """Return the limits as a plain dict (field name -> number)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunLimits:
        """Build limits from :meth:`to_json` output; unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names}).validate()


def _num(value: float) -> str:
    return f"{value:g}"


def limit_message(kind: str, limits: RunLimits) -> str:
    """Return the learner-facing sentence for a limit that stopped a run.

    Args:
        kind: one of ``"cpu"``, ``"wall"``, ``"memory"``, ``"output"``.
        limits: the limits the run had.

    Raises:
        KeyError: for an unknown kind.
    """
    return {
        "cpu": f"stopped after {_num(limits.cpu_seconds)} s of CPU time",
        "wall": f"stopped after {_num(limits.wall_seconds)} s of wall-clock time",
        "memory": f"stopped: the run used more than {limits.memory_mb} MB of memory",
        "output": f"stopped after {limits.output_bytes} bytes of output",
    }[kind]


#: How a run ended when no limit stopped it but the learner deserves a word: the parent
#: picks one, the web layer translates it (``questlab/web/api_run.py``).
END_SENTENCES = {
    "exit_code": "the program ended with exit code {code} (any code but 0 means it failed)",
    "no_network": "runs have no network: downloads (torch.hub, datasets, web pages) cannot work here",
    "no_input": "runs have no keyboard input: input() gets nothing here; put the value in the code",
}


def end_message(kind: str, code: int | None = None) -> str:
    """Return the learner-facing sentence for how a run ended (see :data:`END_SENTENCES`).

    Args:
        kind: ``"exit_code"``, ``"no_network"`` or ``"no_input"``.
        code: the exit status, for ``"exit_code"``.

    Raises:
        KeyError: for an unknown kind.
    """
    return END_SENTENCES[kind].format(code=code)
