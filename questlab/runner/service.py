"""RunnerService: the asyncio face of the runner, with slots, a queue and restarts.

One service owns one warm parent process (see :mod:`questlab.runner.warm`)
and ``slots`` concurrent runs. Callers ``await service.run(code)``; when every
slot is busy a bounded number of callers wait in line, and beyond that
:class:`RunnerBusy` is raised at once. If the warm parent dies, runs in flight
end with status ``killed`` and a new parent is started.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import math
import os
import struct
import tempfile
import threading
import time
from typing import Any

from questlab.runner import sandbox as sb
from questlab.runner.limits import RunLimits
from questlab.runner.result import RunResult
from questlab.runner.sandbox import SandboxUnavailable

log = logging.getLogger("questlab.runner")

MAX_SOURCE_BYTES = 1_000_000
START_TIMEOUT_S = 60.0
#: Seconds a start is expected to take before the first start has been timed (torch's import,
#: Matplotlib's font cache and the test run); used for the retry hint while the runner warms up.
START_ESTIMATE_S = 6.0
#: Extra seconds a run may take past its wall limit before the parent is presumed stuck.
REPLY_GRACE_S = 10.0

UNSANDBOXED_WARNING = (
    "runner: NO SANDBOX (sandbox mode {mode!r}: {reason}). Learner code runs as this server's "
    "user with only rlimits; it can read this server's files and reach the network. "
    "Use this only for a single local user on 127.0.0.1."
)
SANDBOXED_NOTICE = "runner: sandbox mode {mode!r} chose bubblewrap ({description}); ready in {seconds:.1f} s"


CAPABILITIES = ("cpu",)
"""What the in-process runner offers a lesson's ``requires`` (learner code runs on the CPU here)."""


class RunnerBusy(Exception):
    """Every slot is busy and the queue is full; retry after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"the runner is busy; retry in {retry_after_s:.1f} s")
        self.retry_after_s = retry_after_s


class RunnerUnavailable(RunnerBusy):
    """No run can be sent now: no runner offers the capability asked for (no worker online at all,
    for the Celery runner), or the broker cannot be reached.

    Attributes:
        reason: ``"no_worker"`` or ``"broker_down"``.
        capability: the capability asked for (``None``: any runner).
        retry_after_s: seconds after which trying again makes sense.
    """

    def __init__(self, reason: str, capability: str | None = None, retry_after_s: float = 5.0) -> None:
        super().__init__(retry_after_s)
        self.reason, self.capability = reason, capability
        self.args = (f"{reason}{f' ({capability})' if capability else ''}",)


class RunnerStarting(RunnerBusy):
    """The service is still starting (the warm parent imports torch); retry after ``retry_after_s`` s.

    A :class:`RunnerBusy`, so callers that answer "busy, retry later" handle it too; the web
    layer answers it with its own sentence ("warming up").
    """

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(retry_after_s)
        self.args = (f"the runner is warming up; retry in {retry_after_s:.0f} s",)


class _Parent:
    """One warm parent process and its framed-JSON channel."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.reader: asyncio.Task[None] | None = None
        self.logger: asyncio.Task[None] | None = None
        self.alive = True
        #: the last line the process wrote on stderr (why it exited, when it did)
        self.last_error = ""


class RunnerService:
    """Runs learner code in single-use sandboxed children of a warm parent.

    Args:
        slots: runs executed at once (one per core is the sweet spot).
        queue_size: callers allowed to wait for a slot at most (a memory bound); a caller is
            refused with RunnerBusy earlier when its expected wait passes ``max_wait_s``.
        limits: default limits of a run.
        max_wait_s: the longest expected wait for a slot, in seconds, that a caller is queued
            for (the median recent run time × the runs ahead ÷ the slots); beyond it, RunnerBusy
            with that wait as ``retry_after_s``. A burst the machine serves within this time waits
            and is served instead of being refused. ``None`` (the default, for the CLI and
            tests): only ``queue_size`` refuses.
        sandbox: ``"bwrap"`` (raise SandboxUnavailable if it cannot work),
            ``"none"`` (fork and rlimits only; logs a loud warning) or
            ``"auto"`` (bwrap when it works here, otherwise none).

    Attributes:
        sandboxed: True only when the bubblewrap isolation is active.
        sandbox_description: one sentence for logs and pages.
        chosen: ``"bwrap"`` or ``"none"`` once started (what ``"auto"`` chose), None before.
        starting: True while :meth:`start` runs; :meth:`run` then raises
            :class:`RunnerStarting`.
    """

    def __init__(
        self,
        *,
        slots: int = 2,
        queue_size: int = 16,
        limits: RunLimits = RunLimits(),
        sandbox: str = "auto",
        max_wait_s: float | None = None,
    ) -> None:
        if sandbox not in ("auto", "bwrap", "none"):
            raise ValueError(f"sandbox must be 'auto', 'bwrap' or 'none', not {sandbox!r}")
        if not 1 <= slots <= sb.MAX_SLOTS or queue_size < 0:
            raise ValueError(f"slots must be 1 to {sb.MAX_SLOTS} and queue_size at least 0")
        self.slots, self.queue_size, self.limits = slots, queue_size, limits.validate()
        self.max_wait_s = max_wait_s
        self.mode = sandbox
        self.sandboxed = False
        self.sandbox_description = "not started"
        self.chosen: str | None = None
        self.starting = False
        self._start_began = 0.0
        self._start_took_s: float | None = None
        #: the sandbox shows Python and questlab at neutral paths (sandbox.neutral_layout)
        self._neutral = sb.overlay_available()
        self._parent: _Parent | None = None
        self._cgroups: sb.SlotCgroups | None = None
        self._free: list[int] = []
        #: Waiting callers per owner (e.g. a client address), served round-robin across owners
        #: and first-come within one: a burst from one owner cannot starve the others.
        self._waiters: collections.OrderedDict[str, collections.deque[asyncio.Future[int]]] = (
            collections.OrderedDict()
        )
        self._waiting = 0
        self._next_id = 0
        self._restart_lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._recent_ms: collections.deque[float] = collections.deque(maxlen=50)
        self._workdir: str | None = None
        #: Slot k runs as uid ``uid_base + k`` (bubblewrap mode).
        self.uid_base = sb.next_uid_base()

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        """Start the warm parent (about 2-6 s, once) and check it with a tiny run.

        Logs one line saying what the sandbox mode chose: an info line for bubblewrap, a
        warning for no sandbox. While it runs, :meth:`run` raises :class:`RunnerStarting`
        (start it as a task to serve pages meanwhile).

        Raises:
            SandboxUnavailable: with ``sandbox="bwrap"`` when bubblewrap
                isolation cannot work here.
        """
        self._loop = asyncio.get_running_loop()
        self._restart_lock = asyncio.Lock()
        self._free = list(range(self.slots))
        if not self.starting:  # start_soon marked it already
            self.starting, self._start_began = True, time.monotonic()
        try:
            await self._start()
        finally:
            self.starting = False
            self._start_took_s = time.monotonic() - self._start_began

    def start_soon(self) -> asyncio.Task[None]:
        """Begin :meth:`start` as a task of the running loop and return it.

        From this call on, :meth:`run` raises :class:`RunnerStarting` until the start has
        ended (also before the task's first step runs).
        """
        self.starting, self._start_began = True, time.monotonic()
        return asyncio.get_running_loop().create_task(self.start(), name="questlab-runner-start")

    def start_retry_after(self) -> float:
        """Seconds (at least 1) until a start begun earlier is expected to be done.

        From the last start's duration, or :data:`START_ESTIMATE_S` before any start has ended.
        """
        expected = self._start_took_s or START_ESTIMATE_S
        return float(max(1, math.ceil(expected - (time.monotonic() - self._start_began))))

    async def _start(self) -> None:
        reason = sb.probe_bwrap() if self.mode != "none" else "sandbox='none' was asked for"
        if reason is None and not self._neutral:
            log.warning("runner: no overlayfs (or sh and mount) here: runs see the host's paths of Python")
        if reason is None and self._neutral:
            try:  # the neutral layout first; where its overlays fail, the plain one below
                await self._start_parent(sandboxed=True)
                await self._self_test()
            except (TimeoutError, SandboxUnavailable, OSError) as e:
                log.warning("runner: the sandbox with neutral paths did not start (%s); binds host paths", e)
                await self._stop_parent()
                self._neutral = False
        if reason is None:
            try:
                if self._parent is None:
                    await self._start_parent(sandboxed=True)
                    await self._self_test()
                self.sandboxed, self.chosen = True, "bwrap"
                self.sandbox_description = (
                    "bubblewrap sandbox: no network, read-only system, private UTS namespace; "
                    "per run: private PID, mount, IPC and network namespaces, a fresh "
                    "unprivileged uid and no capabilities, seccomp, cgroup limits on memory, "
                    "processes and CPU"
                )
                log.info(
                    SANDBOXED_NOTICE.format(
                        mode=self.mode,
                        description="per-run namespaces, own uid, seccomp, cgroup limits",
                        seconds=time.monotonic() - self._start_began,
                    )
                )
                return
            except (TimeoutError, SandboxUnavailable, OSError) as e:
                reason = f"bubblewrap did not start: {e}"
                await self._stop_parent()
                if self._cgroups:
                    self._cgroups.remove()
                    self._cgroups = None
        if self.mode == "bwrap":
            raise SandboxUnavailable(reason)
        log.warning(UNSANDBOXED_WARNING.format(mode=self.mode, reason=reason))
        self.sandbox_description = (
            f"NO SANDBOX: learner code runs as this server's user with rlimits only ({reason})"
        )
        await self._start_parent(sandboxed=False)
        self.chosen = "none"

    async def _self_test(self) -> None:
        # A run starts at the server's own niceness (warm.OFF_PATH_NICE lowers
        # only the work no request waits for).
        code = "import os\nprint(6 * 7, os.getpriority(os.PRIO_PROCESS, 0))"
        result = await self._execute(0, code, self.limits, None)
        expected = f"42 {os.getpriority(os.PRIO_PROCESS, 0)}\n"
        if result.status != "ok" or result.stdout != expected:
            raise SandboxUnavailable(
                f"a test run inside the sandbox failed ({result.status}): printed {result.stdout[:200]!r}, "
                f"not {expected!r} (6 * 7 and the server's niceness); "
                f"{(result.stderr or result.message or '')[-500:]}"
            )

    async def _start_parent(self, *, sandboxed: bool) -> None:
        config: dict[str, Any] = {
            "isolated": sandboxed,
            "slots": self.slots,
            "uid_base": self.uid_base,
            "cgroup_root": sb.SANDBOX_CGROUP_ROOT,
            "limits": self.limits.to_json(),
            "child_env": {**sb.BASE_ENV, "HOME": "/tmp", "TMPDIR": "/tmp"},
        }
        if sandboxed:
            if self._cgroups is None:
                self._cgroups = sb.SlotCgroups(self.slots)
                self._cgroups.create()
            config["child_env"].update(sb.layout_env(self._neutral))
            argv = sb.bwrap_command(config, self._cgroups, neutral=self._neutral)
            config = sb.bwrap_config(config)
            env: dict[str, str] = {"PATH": sb.BASE_ENV["PATH"]}
            cwd = "/"
        else:
            self._workdir = self._workdir or tempfile.mkdtemp(prefix="questlab-runner-")
            config["child_env"] = {**config["child_env"], "HOME": self._workdir}
            config["child_env"].pop("TMPDIR")
            argv = sb.plain_command(config)
            env = {
                **sb.BASE_ENV,
                **sb.PARENT_ENV,
                "HOME": self._workdir,
                "MPLCONFIGDIR": os.path.join(self._workdir, ".mpl"),
            }
            cwd = self._workdir
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=cwd,
            limit=1 << 26,
        )
        assert proc.stdin is not None
        proc.stdin.write(sb.config_frame(config))  # not on the command line: every run could read it
        parent = _Parent(proc)
        parent.reader = asyncio.create_task(self._read_replies(parent))
        parent.logger = asyncio.create_task(self._log_stderr(parent))
        self._parent = parent
        try:
            await asyncio.wait_for(asyncio.shield(parent.ready), START_TIMEOUT_S)
        except (TimeoutError, ConnectionError) as e:
            if isinstance(e, ConnectionError):  # it exited: its last words say why
                try:
                    await asyncio.wait_for(asyncio.shield(parent.logger), 1.0)
                except TimeoutError:
                    pass
            why = f" ({parent.last_error})" if parent.last_error else ""
            raise SandboxUnavailable(f"the warm parent did not start: {e or 'timed out'}{why}") from e

    async def _read_replies(self, parent: _Parent) -> None:
        stdout = parent.proc.stdout
        assert stdout is not None
        try:
            while True:
                header = await stdout.readexactly(4)
                (size,) = struct.unpack(">I", header)
                msg = json.loads(await stdout.readexactly(size))
                if msg.get("op") == "ready" and not parent.ready.done():
                    parent.ready.set_result(msg)
                elif msg.get("op") == "result":
                    fut = parent.pending.pop(msg["id"], None)
                    if fut and not fut.done():
                        fut.set_result(msg["result"])
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            parent.alive = False
            if not parent.ready.done():
                parent.ready.set_exception(ConnectionError("the warm parent exited while starting"))
            for fut in parent.pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("the warm parent exited"))
            parent.pending.clear()

    async def _log_stderr(self, parent: _Parent) -> None:
        assert parent.proc.stderr is not None
        async for line in parent.proc.stderr:
            text = line.decode(errors="replace").rstrip()
            if text:
                parent.last_error = text[-500:]
            log.warning("warm parent: %s", text)

    async def _stop_parent(self) -> None:
        parent, self._parent = self._parent, None
        if parent is None:
            return
        parent.alive = False
        if parent.proc.returncode is None:
            try:
                parent.proc.kill()
            except ProcessLookupError:
                pass
        await parent.proc.wait()
        for task in (parent.reader, parent.logger):
            if task:
                try:
                    await asyncio.wait_for(task, 5)
                except (TimeoutError, asyncio.CancelledError):
                    task.cancel()

    async def _ensure_parent(self) -> _Parent:
        assert self._restart_lock is not None
        async with self._restart_lock:
            if self._parent is None or not self._parent.alive:
                if self._closed:
                    raise RuntimeError("the runner service is closed")
                log.warning("the warm parent is gone; starting a new one")
                await self._stop_parent()
                await self._start_parent(sandboxed=self.sandboxed)
            assert self._parent is not None
            return self._parent

    async def close(self) -> None:
        """Stop the warm parent, end runs in flight and remove the cgroups."""
        self._closed = True
        await self._stop_parent()
        if self._cgroups:
            self._cgroups.remove()
            self._cgroups = None
        if self._workdir:
            import shutil

            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    # -- runs ------------------------------------------------------------------
    def typical_run_s(self) -> float:
        """The median of the recent runs' wall time in seconds (0.1 before any run)."""
        return (sorted(self._recent_ms)[len(self._recent_ms) // 2] / 1000) if self._recent_ms else 0.1

    @property
    def busy_slots(self) -> int:
        """Slots running a program now (0 before the start)."""
        return self.slots - len(self._free) if self._loop is not None else 0

    def _expected_wait_s(self) -> float:
        """Seconds a new caller is expected to wait for a slot with the runs queued now."""
        return self.typical_run_s() * (self._waiting + 1) / self.slots

    def _retry_after(self) -> float:
        return round(max(1.0, self._expected_wait_s()), 1)

    @property
    def queue_depth(self) -> int:
        """Callers waiting for a slot now."""
        return self._waiting

    async def _acquire(self, owner: str) -> int:
        if self._free:
            # The slot idle longest: its spare has had the most time to get ready.
            return self._free.pop(0)
        too_long = self.max_wait_s is not None and self._expected_wait_s() > self.max_wait_s
        if self._waiting >= self.queue_size or too_long:
            raise RunnerBusy(self._retry_after())
        assert self._loop is not None
        fut: asyncio.Future[int] = self._loop.create_future()
        self._waiters.setdefault(owner, collections.deque()).append(fut)
        self._waiting += 1
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._release(fut.result())
            else:
                queue = self._waiters.get(owner)
                if queue is not None and fut in queue:
                    queue.remove(fut)
                    self._waiting -= 1
                    if not queue:
                        del self._waiters[owner]
            raise

    def _release(self, slot: int) -> None:
        while self._waiters:
            owner, queue = next(iter(self._waiters.items()))
            fut = queue.popleft()
            self._waiting -= 1
            if queue:
                self._waiters.move_to_end(owner)  # round-robin: this owner's next run waits its turn
            else:
                del self._waiters[owner]
            if not fut.done():
                fut.set_result(slot)
                return
        self._free.append(slot)

    async def run(
        self,
        code: str,
        *,
        limits: RunLimits | None = None,
        harness: str | None = None,
        owner: str = "",
        capability: str | None = None,
    ) -> RunResult:
        """Run ``code`` in a fresh sandboxed child and return its result.

        Args:
            code: the learner's Python source.
            limits: this run's limits (default: the service's).
            harness: trusted grading code run in the same child afterwards;
                see ``docs/runner.md``.
            owner: whose run it is for fair queueing (the web passes the client address): while
                slots are busy, waiting runs are served round-robin across owners.
            capability: what the run needs (a lesson's ``requires``); this runner offers
                :data:`CAPABILITIES` only.

        Raises:
            RunnerUnavailable: ``capability`` is not one this runner offers.
            RunnerStarting: while :meth:`start` is still running (a RunnerBusy).
            RunnerBusy: when every slot is busy and the queue is full.
            RuntimeError: when the service was not started or is closed.
        """
        if capability not in (None, *CAPABILITIES):
            raise RunnerUnavailable("no_worker", capability, retry_after_s=60.0)
        if self.starting:
            raise RunnerStarting(self.start_retry_after())
        if self._loop is None or self._closed:
            raise RuntimeError("call 'await RunnerService.start()' before running code")
        limits = (limits or self.limits).validate()
        if len(code.encode()) + len((harness or "").encode()) > MAX_SOURCE_BYTES:
            return RunResult(status="error", message=f"the code is longer than {MAX_SOURCE_BYTES} bytes")
        slot = await self._acquire(owner)
        try:
            result = await self._execute(slot, code, limits, harness)
        finally:
            self._release(slot)
        self._recent_ms.append(result.duration_ms)
        # In the caller's task: the line carries the caller's context (the web request's id).
        log.info(
            "run %s in %.0f ms (%.0f ms CPU)%s",
            result.status,
            result.duration_ms,
            result.cpu_ms,
            ", graded" if harness is not None else "",
        )
        return result

    async def _execute(self, slot: int, code: str, limits: RunLimits, harness: str | None) -> RunResult:
        parent = await self._ensure_parent()
        assert self._loop is not None and parent.proc.stdin is not None
        self._next_id += 1
        rid = self._next_id
        fut: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        parent.pending[rid] = fut
        data = json.dumps(
            {
                "op": "run",
                "id": rid,
                "slot": slot,
                "code": code,
                "harness": harness,
                "limits": limits.to_json(),
            }
        ).encode()
        started = time.monotonic()
        try:
            parent.proc.stdin.write(struct.pack(">I", len(data)) + data)
            await parent.proc.stdin.drain()
            reply = await asyncio.wait_for(fut, limits.wall_seconds + REPLY_GRACE_S)
        except (TimeoutError, ConnectionError) as e:
            parent.pending.pop(rid, None)
            stuck = isinstance(e, asyncio.TimeoutError)
            if stuck and parent.alive:
                log.error("the warm parent did not answer run %d in time; restarting it", rid)
                parent.alive = False
                try:
                    parent.proc.kill()
                except ProcessLookupError:
                    pass
            return RunResult(
                status="killed",
                duration_ms=(time.monotonic() - started) * 1000,
                message="the runner restarted during this run; please run it again",
            )
        return RunResult.from_json(reply)

    # -- synchronous use -------------------------------------------------------
    def run_sync(
        self, code: str, *, limits: RunLimits | None = None, harness: str | None = None
    ) -> RunResult:
        """Blocking :meth:`run` for the CLI and tests.

        Starts the service on a private event-loop thread on first use unless
        it was started on a loop already. Must not be called from inside that
        loop's own thread.

        Raises:
            RunnerBusy, SandboxUnavailable: as :meth:`run` and :meth:`start`.
        """
        if self._loop is None:
            ready = threading.Event()
            loop = asyncio.new_event_loop()

            def serve() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            self._thread = threading.Thread(target=serve, name="questlab-runner", daemon=True)
            self._thread.start()
            ready.wait()
            asyncio.run_coroutine_threadsafe(self.start(), loop).result()
        assert self._loop is not None
        if self._thread is None and self._loop.is_running() and _in_loop_thread(self._loop):
            raise RuntimeError("run_sync was called from the service's own event loop; use 'await run()'")
        coro = self.run(code, limits=limits, harness=harness)
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close_sync(self) -> None:
        """Blocking :meth:`close` for a service used through :meth:`run_sync`."""
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self.close(), self._loop).result()
        if self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


def _in_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
