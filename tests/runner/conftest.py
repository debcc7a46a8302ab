"""Shared fixtures: one sandboxed RunnerService for the whole runner suite.

Tests that need bubblewrap must run, not skip, wherever /usr/bin/bwrap
exists: the fixture fails loudly when bwrap is installed but the sandbox
cannot start.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from questlab.runner import RunLimits, RunnerService
from questlab.runner.sandbox import probe_bwrap

FAKE_SECRET = "qlsecret-7f3a9c0d2e1b-do-not-leak"
os.environ["QUESTLAB_SECRET_KEY"] = FAKE_SECRET
os.environ["QUESTLAB_DATABASE_URL"] = f"sqlite:////srv/questlab/{FAKE_SECRET}.db"

HAVE_BWRAP = os.path.exists("/usr/bin/bwrap")
#: Short limits so that hostile programs end quickly.
FAST = RunLimits(cpu_seconds=2, wall_seconds=3, memory_mb=256, processes=64, output_bytes=64_000)


@pytest.fixture(scope="session")
def runner() -> Iterator[RunnerService]:
    """A started, bubblewrap-sandboxed service (the suite fails if bwrap exists but will not work)."""
    # Never a skip: the sandbox is what these tests are about (scripts/test installs bubblewrap).
    assert HAVE_BWRAP, "bubblewrap is not installed: run scripts/system-packages (Debian package bubblewrap)"
    reason = probe_bwrap()
    assert reason is None, f"/usr/bin/bwrap exists but the sandbox cannot work: {reason}"
    service = RunnerService(slots=2, queue_size=16, limits=FAST, sandbox="bwrap")
    service.run_sync("pass")
    assert service.sandboxed
    yield service
    service.close_sync()


def run_many(service: RunnerService, codes: list[str], **kw: Any) -> list[Any]:
    """Run several programs at once through the service's own event loop."""
    assert service._loop is not None

    async def all_of() -> list[Any]:
        return await asyncio.gather(*(service.run(c, **kw) for c in codes), return_exceptions=True)

    return asyncio.run_coroutine_threadsafe(all_of(), service._loop).result(120)


def _slot_processes(service: RunnerService) -> tuple[list[str], list[int]]:
    """Host view of the processes of the service's slot uids: ('pid cmdline' of runs, spare pids).

    A spare (one per slot, waiting for its next run's code) already runs as its
    slot's uid: it is PID 1 of its own PID namespace, a child of the warm
    parent, not traced (a run is traced by the warm parent from the moment it
    gets its code until it exits) and asleep (waiting; a run's PID 1 that is
    ending is running, in disk sleep or a zombie). Any other process of a slot
    uid, or a second such process for one uid, belongs to a run.
    """
    found, spares, spare_pids = [], set(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            uid = int(status.split("Uid:")[1].split()[0])
            if not service.uid_base <= uid < service.uid_base + service.slots:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            parent = Path(f"/proc/{fields['PPid'].strip()}/cmdline").read_bytes()
            spare = (
                fields["NSpid"].split()[-1] == "1"
                and fields["TracerPid"].strip() == "0"
                and fields["State"].split()[0] == "S"
                and b"questlab.runner.warm" in parent
                and uid not in spares
            )
            if spare:
                spares.add(uid)
                spare_pids.append(int(entry.name))
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry.name} {cmd}")
        except (OSError, IndexError, ValueError, KeyError):
            continue
    return found, spare_pids


def sandbox_processes(service: RunnerService) -> list[str]:
    """Processes of the service's slot uids that belong to runs, as 'pid cmdline' (spares left out)."""
    return _slot_processes(service)[0]


def spare_processes(service: RunnerService) -> list[int]:
    """Host pids of the service's spares (see :func:`_slot_processes`)."""
    return _slot_processes(service)[1]


def processes_left(service: RunnerService, within_s: float = 2.0) -> list[str]:
    """:func:`sandbox_processes` once they are gone, or what is still there after ``within_s``.

    The runner answers at its run's exit stop, before the kernel has freed the
    process (its address space is torn down after the answer, in milliseconds,
    and it was killed already); a process that survived its run stays listed.
    """
    deadline = time.monotonic() + within_s
    while True:
        left = sandbox_processes(service)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.01)


def assert_healthy(service: RunnerService) -> None:
    """The service still runs ordinary code, and nothing of earlier runs is left alive."""
    result = service.run_sync("import torch\nprint(int(torch.ones(2, 2).sum()))")
    assert result.status == "ok", result
    assert result.stdout == "4\n"
    assert processes_left(service) == []
