"""The warm parent: imports torch once; its zygote forks one single-use child per run.

Started by :class:`questlab.runner.service.RunnerService` (inside bubblewrap
when sandboxed) as ``python -I -c BOOTSTRAP PACKAGE_ROOT``. It speaks framed
JSON (4-byte big-endian length, then UTF-8 JSON) on its stdin (requests) and
stdout (replies):

- first, on stdin, the configuration (``sandbox.config_frame``)
- request ``{"op": "run", "id": int, "slot": int, "code": str, "harness":
  str|None, "limits": RunLimits.to_json()}``
- reply ``{"op": "ready", "pid": int}`` once, then ``{"op": "result", "id":
  int, "result": RunResult.to_json()}`` per run.

Before its first request it forks the :class:`Zygote`, which forks the
spares, so that no spare is a copy of a process that held a request.

It takes every fact about how a run ended from the kernel: the exit status at
the run's ``PTRACE_EVENT_EXIT`` stop (or the zygote's ``wait4`` for a run no
longer traced), CPU time and OOM kills from the slot's cgroups, the wall
clock and output bytes from its own counting. The child only adds the
traceback, images, module trees and report.
"""

from __future__ import annotations

import array
import fcntl
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
from typing import Any

from questlab.runner import _linux, child
from questlab.runner.limits import RunLimits, end_message, limit_message
from questlab.runner.result import RESULT_VERSION, cap_output, make_inert

MAX_EXTRAS_BYTES = 8_000_000
#: Most UTF-8 bytes of the traceback (and the harness's) sent back; the traceback is in
#: stderr too, under the output cap.
MAX_TRACEBACK_BYTES = 16_000
CPU_POLL_S = 0.05
#: Signals the kernel forces on a process for a fault in what it executes.
FAULT_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGTRAP})
EXIT_GRACE_S = 0.5
#: Signals whose default action stops a process; the init of a PID namespace ignores them.
STOP_SIGNALS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})
#: Signal stops of one run the parent handles before it stops tracing the run.
SIGNAL_STOP_BUDGET = 1000
#: Niceness of the work no request waits for yet (sandbox mode): the zygote
#: forking the next spare, the spare's preparation, and a run's teardown after
#: its answer. A request's own path (the server, this parent, the run) stays
#: at the server's own niceness and so comes first among the sandbox's
#: processes (one scheduling autogroup: niceness ranks tasks within it);
#: whatever a request does come to wait for is raised back then
#: (:func:`_renice`). The run's code always starts at the server's niceness:
#: the parent raises the spare before handing it the code. Only with
#: ``CAP_SYS_NICE`` (``cfg["nice"]``); without it nothing is lowered.
OFF_PATH_NICE = 19

#: Most bytes read from a run's pipes at its exit stop (past the output cap,
#: output is dropped anyway; this bounds a pipe that other processes of the
#: run fill as fast as it is read).
DRAIN_LIMIT_BYTES = 16 << 20


def _handles(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler for ``sig`` (``SigCgt`` in /proc)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    except (OSError, ValueError):
        pass
    return False


def _renice(pid: int, nice: int) -> None:
    """Set the niceness of process (thread) ``pid``; a process already gone is ignored.

    Raising a priority needs ``CAP_SYS_NICE``, which the sandboxed parent
    holds (runs never do: their uid switch drops every capability).
    """
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except OSError:
        pass


def _kill(pid: int) -> None:
    """SIGKILL ``pid``; a process already gone is ignored."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _can_raise_priority() -> bool:
    """Whether this process may raise a thread's priority (a user namespace's root may not).

    Tried on a short-lived thread of its own (niceness is per thread), so
    that a failed raise leaves nothing lowered.
    """
    base = os.getpriority(os.PRIO_PROCESS, 0)
    result: list[bool] = []

    def probe() -> None:
        tid = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, tid, OFF_PATH_NICE)
            os.setpriority(os.PRIO_PROCESS, tid, base)
            result.append(os.getpriority(os.PRIO_PROCESS, tid) == base)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, name="nice-probe")
    thread.start()
    thread.join()
    return bool(result and result[0])


def _warm_up() -> None:
    """Import and exercise what lessons use, one thread, before any fork."""
    import torch

    torch.set_num_threads(1)  # before any torch op: OpenMP pools do not survive fork
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    import matplotlib

    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt
    import numpy
    import torch.nn.functional  # noqa: F401
    import torch.optim  # noqa: F401
    import torch.utils.data  # noqa: F401

    # The first optimizer a process builds imports torch._dynamo and its dependencies (about 800
    # modules, 1.5-2 s here); done once here, before any fork, every training run starts without it.
    weight = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.Adam([weight], lr=0.1)
    weight.sum().backward()
    optimizer.step()
    del weight, optimizer
    _exercise()
    numpy.random.seed()
    print(numpy.arange(3) @ numpy.ones(3), file=io.StringIO())
    fig = plt.figure()
    plt.plot([0, 1], [1, 0])
    fig.savefig(io.BytesIO(), format="png")
    plt.close("all")
    # Matplotlib keeps each font it rendered open (FT2Font objects reading from
    # a file), which a child cannot use once it has closed inherited
    # descriptors; Matplotlib's own after-fork hook clears that cache, but
    # spares are forked without such hooks (_linux.fork_bare). Children start
    # with an empty cache and open the font when they first draw text.
    font_cache = getattr(getattr(matplotlib, "font_manager", None), "_get_font", None)
    if font_cache is not None:
        font_cache.cache_clear()
    import gc

    gc.collect()
    # Objects alive now are shared with every child; keeping the collector
    # off them avoids copying their pages in each child.
    gc.freeze()


def _exercise() -> None:
    """Run once what a lesson-sized run touches (the warm-up; the zygote after its fork).

    The zygote shares its memory with the warm parent, so its writes here copy
    the pages they touch and split the huge pages around them. Its children
    then inherit those regions in small pages, which their own first writes
    copy without splitting a huge page each time (0.8 ms per run for the
    issue's snippet); the regions nothing writes stay in huge pages, which
    keeps each fork cheap.
    """
    import io

    import torch

    class _Exercise(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = torch.nn.Linear(8, 16)
            self.fc2 = torch.nn.Linear(16, 2)

        def forward(self, x: Any) -> Any:
            return self.fc2(torch.relu(self.fc1(x)))

    model = _Exercise()
    out = io.StringIO()
    print(model, sum(p.numel() for p in model.parameters()), model(torch.randn(4, 8)).shape, file=out)
    print(torch.randn(2, 3), file=out)
    json.dumps({"modules": child.collect_modules({"model": model}), "traceback": None})
    child.trim_traceback(ValueError("exercise"))
    del model, _Exercise
    import gc

    gc.collect()


class _Cgroups:
    """Reads and writes of one slot's cgroup files (v1), as seen in the sandbox.

    The counters read on every run stay open and are read with ``pread`` at
    offset 0 (each read shows the current value): 1 µs instead of 14 µs
    for an open, read and close. ``cgroup.procs`` is opened for each read:
    cgroup v1 keeps the process list of an open file and serves it again.
    """

    def __init__(self, root: str, name: str) -> None:
        self.mem = f"{root}/memory/{name}"
        self.pids = f"{root}/pids/{name}"
        self.cpu = f"{root}/cpuacct/{name}"
        self.limits: tuple[int, int] | None = None
        self.oom_fd = os.open(f"{self.mem}/memory.oom_control", os.O_RDONLY | os.O_CLOEXEC)
        self.cpu_fd = os.open(f"{self.cpu}/cpuacct.usage", os.O_RDONLY | os.O_CLOEXEC)

    def apply(self, limits: RunLimits) -> None:
        want = (limits.memory_mb, limits.processes)
        if self.limits == want:
            return
        _write(f"{self.mem}/memory.limit_in_bytes", str(limits.memory_mb * 1024 * 1024))
        _write(f"{self.pids}/pids.max", str(limits.processes))
        self.limits = want

    def oom_kills(self) -> int:
        for line in os.pread(self.oom_fd, 4096, 0).decode().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def kill_all(self, rounds: int = 4) -> None:
        """SIGKILL every process in the slot's cgroup (``cgroup.procs`` of pids).

        Read again while it shows processes not yet killed (one may fork while
        the list is read), at most ``rounds`` times; the pids limit bounds
        how many can appear.
        """
        killed: set[int] = set()
        for _ in range(rounds):
            try:
                with open(f"{self.pids}/cgroup.procs", "rb") as f:
                    fresh = {int(pid) for pid in f.read().split()} - killed
            except (OSError, ValueError):
                return
            if not fresh:
                return
            for pid in fresh:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            killed |= fresh

    def tasks(self) -> list[int]:
        """Thread ids in the slot's pids cgroup (``tasks``; empty when unreadable)."""
        try:
            with open(f"{self.pids}/tasks", "rb") as f:
                return [int(tid) for tid in f.read().split()]
        except (OSError, ValueError):
            return []

    def cpu_ns(self) -> int:
        return int(os.pread(self.cpu_fd, 64, 0))


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


class _Spare:
    """A forked child waiting for its code, prepared for ``limits``."""

    def __init__(
        self,
        slot: int,
        half: int,
        pid: int,
        req_w: int,
        out_r: int,
        err_r: int,
        res_r: int,
        limits: RunLimits,
        scratch: str | None,
    ) -> None:
        self.slot, self.half, self.pid, self.req_w = slot, half, pid, req_w
        self.out_r, self.err_r, self.res_r = out_r, err_r, res_r
        self.limits, self.scratch = limits, scratch


class _Run:
    def __init__(
        self, rid: int, spare: _Spare, limits: RunLimits, cg: _Cgroups | None, scratch: str | None
    ) -> None:
        self.id, self.spare, self.limits, self.cg, self.scratch = rid, spare, limits, cg, scratch
        self.out, self.err, self.extras = bytearray(), bytearray(), bytearray()
        self.open_fds = {spare.out_r, spare.err_r, spare.res_r}
        self.truncated = False
        self.kill_reason: str | None = None
        self.wait: tuple[int, Any] | None = None
        self.exited_at = 0.0
        self.oom_before = cg.oom_kills() if cg else 0
        self.cpu_before = cg.cpu_ns() if cg else 0
        self.last_poll = self.started = time.monotonic()
        self.deadline = self.started + limits.wall_seconds
        #: The parent traces the run's PID 1 to learn its exit status at PTRACE_EVENT_EXIT.
        self.traced = False
        #: wait4 has collected the process (the verdict may come earlier, at the exit stop).
        self.reaped = False
        self.signal_stops = 0
        #: CPU seconds of PID 1 on the clock RLIMIT_CPU is checked on (_linux.rlimit_cpu_clock_s),
        #: read at its exit stop or by the zygote before collecting it; None when unknown.
        self.rlimit_clock_s: float | None = None


class Zygote:
    """A copy of the warm parent made before it handles any request; it only forks spares.

    Spares are forked from here, not from the warm parent, for two reasons.
    A child is a copy of its parent's memory, which learner code can read
    (frames, ``gc``, ``ctypes``): forked from the parent that handles
    requests, a spare held earlier requests, their code and harness and
    other runs' output. The zygote never receives anything of a request
    (its commands carry a slot, a cgroup half, limits and a scratch path),
    so there is nothing of anyone else to find. And the zygote writes little
    to its memory, so the huge pages it shares with its children stay whole
    and each fork stays cheap.

    Protocol (a ``SOCK_SEQPACKET`` socket pair, one JSON object a message):
    ``{"op": "fork", "slot", "half", "limits", "scratch"}`` in; ``{"op":
    "spare", "slot", "pid"}`` out with the spare's request, stdout, stderr and
    result descriptors attached (``SCM_RIGHTS``), and ``{"op": "exit",
    "pid", "status", "cpu", "rlimit_clock"}`` for each child it collects (wait
    status and CPU seconds from ``wait4``; CPU seconds as ``RLIMIT_CPU`` counts
    them, or null).
    """

    def __init__(self, cfg: dict[str, Any], sock: socket.socket) -> None:
        self.cfg, self.sock = cfg, sock
        self.own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY) if cfg["isolated"] else -1

    def loop(self) -> None:
        """Serve fork commands and report collected children until the parent goes."""
        _exercise()
        # Every spare's environment: set once here and inherited, not rebuilt
        # in each child (0.5 ms of CPU each).
        os.environ.clear()
        os.environ.update(self.cfg["child_env"])
        sel = selectors.DefaultSelector()
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        sel.register(self.sock, selectors.EVENT_READ, "command")
        sel.register(wake_r, selectors.EVENT_READ, "sigchld")
        while True:
            for key, _ in sel.select(1.0):
                if key.data == "sigchld":
                    try:
                        while os.read(wake_r, 4096):
                            pass
                    except BlockingIOError:
                        pass
                else:
                    data = self.sock.recv(1 << 16)
                    if not data:
                        return
                    self.fork(json.loads(data))
            self.reap()

    def reap(self) -> None:
        while True:
            # First without collecting: the CPU clock RLIMIT_CPU is checked on can be read
            # only while the child can still be waited for (wait4's own figures are the
            # scheduler's exact runtime, another clock).
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            rlimit_clock = _linux.rlimit_cpu_clock_s(info.si_pid)
            try:
                pid, status, rusage = os.wait4(info.si_pid, os.WNOHANG)
            except ChildProcessError:
                continue
            if pid == 0:
                return
            cpu = rusage.ru_utime + rusage.ru_stime
            report = {"op": "exit", "pid": pid, "status": status, "cpu": cpu, "rlimit_clock": rlimit_clock}
            self.sock.send(json.dumps(report).encode())

    def fork(self, cmd: dict[str, Any]) -> None:
        slot, half, scratch = int(cmd["slot"]), int(cmd["half"]), cmd["scratch"]
        limits = RunLimits.from_json(cmd["limits"])
        req_r, req_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        res_r, res_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        if self.cfg["isolated"]:
            _linux.unshare(_linux.CLONE_NEWPID)
        pid = _linux.fork_bare()
        if pid == 0:  # the spare child
            status = child.SETUP_FAILED
            try:
                child.after_bare_fork()
                # The zygote's SIGCHLD wake-up writes to a descriptor number
                # the child is about to close (and could reuse): undo both.
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                devnull = os.open(os.devnull, os.O_RDONLY)
                # Move the ends above 9 first so no dup2 clobbers a later source.
                high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (devnull, out_w, err_w, res_w, req_r)]
                for dst, src in enumerate(high):
                    os.dup2(src, dst)
                os.closerange(5, 1 << 16)
                child.prepare_spare(self.cfg, slot, half, limits)
                child.serve_request(self.cfg, slot, limits, scratch)
            except BaseException as e:
                try:
                    os.write(2, f"the sandbox could not be prepared: {e!r}\n".encode())
                except BaseException:
                    pass
            os._exit(status)
        if self.cfg["isolated"]:
            _linux.setns(self.own_pidns, _linux.CLONE_NEWPID)
        for fd in (req_r, out_w, err_w, res_w):
            os.close(fd)
        ends = [req_w, out_r, err_r, res_r]
        socket.send_fds(self.sock, [json.dumps({"op": "spare", "slot": slot, "pid": pid}).encode()], ends)
        for fd in ends:
            os.close(fd)


class WarmParent:
    """The event loop of the warm parent (see the module docstring)."""

    def __init__(
        self, cfg: dict[str, Any], ctl_in: int, ctl_out: int, zygote: socket.socket, zygote_pid: int
    ) -> None:
        self.cfg, self.ctl_in, self.ctl_out, self.zygote = cfg, ctl_in, ctl_out, zygote
        self.zygote_pid = zygote_pid
        #: whether off-path work is lowered in priority (OFF_PATH_NICE; needs CAP_SYS_NICE)
        self.renice = bool(cfg["isolated"] and cfg.get("nice"))
        #: whether runs are traced to their exit stop (sandbox mode with CAP_SYS_PTRACE)
        self.trace = bool(cfg["isolated"] and cfg.get("trace"))
        #: the niceness runs and waited-for work get: the server's own
        self.base_nice = os.getpriority(os.PRIO_PROCESS, 0)
        if self.renice:  # the zygote's forks and so every spare's preparation
            _renice(zygote_pid, OFF_PATH_NICE)
        #: the zygote is raised for runs whose verdict waits for its report (zygote_urgency)
        self.zygote_raised = False
        #: exit reports of the zygote for processes not yet matched to a run:
        #: pid -> (status, cpu s, cpu s on RLIMIT_CPU's clock or None)
        self.reports: dict[int, tuple[int, float, float | None]] = {}
        self.sel = selectors.DefaultSelector()
        self.spares: dict[int, _Spare] = {}
        #: spares asked of the zygote and not yet come: slot -> (cgroup half, limits, scratch)
        self.pending: dict[int, tuple[int, RunLimits, str | None]] = {}
        self.runs: dict[int, _Run] = {}  # by pid
        #: Runs answered at their exit stop whose process the kernel is still tearing down.
        self.dying: dict[int, _Run] = {}
        self.fd_run: dict[int, _Run] = {}
        self.inbuf = bytearray()
        self.cgroups = (
            {
                (s, h): _Cgroups(cfg["cgroup_root"], f"slot{s}-{h}")
                for s in range(cfg["slots"])
                for h in (0, 1)
            }
            if cfg["isolated"]
            else {}
        )
        self.next_half = [0] * cfg["slots"]
        #: what a spare is prepared for unless a request asks for other limits
        self.default_limits = RunLimits.from_json(cfg["limits"])
        self.last_sweep = 0.0

    # -- spares ------------------------------------------------------------
    def fork_spare(self, slot: int, limits: RunLimits | None = None, wait: bool = False) -> None:
        """Ask the zygote for the slot's next spare, prepared for ``limits`` (default: the service's).

        The spare arrives later, in the event loop (:meth:`on_zygote`), so that
        a run's exit stop is handled while the zygote forks; ``wait`` blocks
        until it has come.
        """
        limits = limits or self.default_limits
        scratch = None if self.cfg["isolated"] else tempfile.mkdtemp(prefix=f"questlab-run-{slot}-")
        half = self.next_half[slot]
        self.next_half[slot] ^= 1
        command = {"op": "fork", "slot": slot, "half": half, "limits": limits.to_json(), "scratch": scratch}
        self.zygote.send(json.dumps(command).encode())
        self.pending[slot] = (half, limits, scratch)
        if wait:
            self.await_spare(slot)

    def await_spare(self, slot: int, urgent: bool = True) -> None:
        """Block until the spare asked for ``slot`` has come (other messages are handled meanwhile).

        The zygote works at :data:`OFF_PATH_NICE`; while a request waits for
        it (``urgent``), it is raised to the server's niceness.
        """
        if slot not in self.pending:
            return
        if urgent and self.renice and not self.zygote_raised:
            _renice(self.zygote_pid, self.base_nice)
            self.zygote_raised = True
        while slot in self.pending:
            got = self.zygote_message()
            assert got is not None
            self.on_zygote(*got)
        self.zygote_urgency()  # lowered again unless a run's verdict waits for its report

    def zygote_urgency(self) -> None:
        """Raise the zygote while a run's verdict waits for its report, lower it again after.

        A run no longer traced (a fault, the signal budget) is answered from
        the zygote's ``wait4``, which must not wait behind lowered work.
        """
        if not self.renice:
            return
        want = any(not r.traced and not r.reaped for r in self.runs.values())
        if want != self.zygote_raised:
            _renice(self.zygote_pid, self.base_nice if want else OFF_PATH_NICE)
            self.zygote_raised = want

    def settle(self, cg: _Cgroups, wait_s: float = 1.0) -> None:
        """Wait (at most ``wait_s``) for answered runs still tearing down in ``cg``.

        Their memory is still charged to the cgroup, which a lower memory
        limit for the next run there could not be set under.
        """
        deadline = time.monotonic() + wait_s
        dying = [r for r in self.dying.values() if r.cg is cg]
        if self.renice and any(not r.reaped for r in dying):
            # Their teardown is now on a request's path: every thread left in
            # the cgroup (a run may have lowered its own), not only PID 1.
            for tid in cg.tasks():
                _renice(tid, self.base_nice)
        for run in dying:
            while not run.reaped and time.monotonic() < deadline:
                time.sleep(0.001)
                self.on_child(run)

    # -- the zygote ----------------------------------------------------------
    def zygote_message(self, wait: bool = True) -> tuple[dict[str, Any], list[int]] | None:
        """One message from the zygote, with the descriptors it carries.

        Args:
            wait: block until one comes; otherwise return None when none is
                there (a message seen as readable may have been taken already
                by :meth:`await_spare`, which waits for a spare).

        Raises:
            SystemExit: when the zygote is gone (the service then starts a new parent).
        """
        # socket.recv_fds would ignore the flags (Python 3.11): recvmsg itself.
        try:
            data, ancdata, _, _ = self.zygote.recvmsg(
                1 << 16, socket.CMSG_LEN(4 * 4), 0 if wait else socket.MSG_DONTWAIT
            )
        except BlockingIOError:
            return None
        fds: list[int] = []
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                ints = array.array("i")
                ints.frombytes(payload[: len(payload) - len(payload) % ints.itemsize])
                fds.extend(ints)
        if not data:
            raise SystemExit("the zygote exited")
        return json.loads(data), fds

    def on_zygote(self, msg: dict[str, Any], fds: list[int]) -> None:
        """A message of the zygote: a spare asked for by :meth:`fork_spare`, or an exit report.

        A spare that comes without its four descriptors, or for a slot that
        asked for none, is killed; the slot's next request then asks again.
        """
        if msg.get("op") == "spare":
            slot, pid = int(msg.get("slot", -1)), int(msg.get("pid", 0))
            asked = self.pending.pop(slot, None)
            if asked is not None and len(fds) == 4:
                half, limits, scratch = asked
                self.spares[slot] = _Spare(slot, half, pid, *fds, limits, scratch)
                return
            if asked is not None:
                self.next_half[slot] = asked[0]  # its cgroups are free again
            for fd in fds:
                os.close(fd)
            if pid > 0:
                _kill(pid)
            return
        for fd in fds:
            os.close(fd)
        self.on_report(msg)

    def on_report(self, msg: dict[str, Any]) -> None:
        """The zygote collected a child: a run's verdict when it is no longer traced."""
        if msg.get("op") != "exit":
            return
        pid = int(msg["pid"])
        run = self.runs.get(pid) or self.dying.get(pid)
        waiting = run is not None and not run.reaped
        if waiting or any(spare.pid == pid for spare in self.spares.values()):
            # a run's end, or a spare that died before its run
            clock = msg.get("rlimit_clock")
            self.reports[pid] = (
                int(msg["status"]),
                float(msg["cpu"]),
                float(clock) if isinstance(clock, (int, float)) else None,
            )
        if waiting:
            self.on_child(run)

    def discard_spare(self, spare: _Spare, dead: bool = False) -> None:
        """Kill a spare that will not be used (it holds no run; the zygote collects it).

        ``dead``: the zygote has reported its end already, so its pid may be
        another process's by now and is left alone.
        """
        for fd in (spare.req_w, spare.out_r, spare.err_r, spare.res_r):
            os.close(fd)
        self.reports.pop(spare.pid, None)
        if not dead:
            if self.renice:  # its cgroup half is about to serve a run: no slow teardown there
                _renice(spare.pid, self.base_nice)
            _kill(spare.pid)
        if spare.scratch:
            shutil.rmtree(spare.scratch, ignore_errors=True)
        self.next_half[spare.slot] = spare.half  # its cgroups are free again

    # -- requests ----------------------------------------------------------
    def take_spare(self, slot: int, limits: RunLimits) -> _Spare:
        """The slot's spare, alive as far as the zygote has said and prepared for ``limits``.

        A spare whose end the zygote has reported is never handed code, and
        one prepared for lower limits is discarded (it has already dropped
        the rights to raise them); a fresh one is forked then.

        Raises:
            SystemExit: when the zygote gives no usable spare in four tries
                (the service then starts a new parent).
        """
        if slot in self.pending:  # asked for after the slot's previous run, not here yet
            self.await_spare(slot)
        spare = self.spares.pop(slot, None)
        for _ in range(4):
            if spare is not None and spare.pid in self.reports:
                self.reports.pop(spare.pid, None)
                self.discard_spare(spare, dead=True)
                spare = None
            elif spare is not None and not child.limits_fit(spare.limits, limits, self.cfg["isolated"]):
                self.discard_spare(spare)
                spare = None
            if spare is not None:
                return spare
            self.fork_spare(slot, limits, wait=True)
            spare = self.spares.pop(slot, None)
        raise SystemExit("the zygote gave no usable spare")

    def dispatch(self, req: dict[str, Any]) -> None:
        slot = int(req["slot"])
        limits = RunLimits.from_json(req["limits"])
        for _ in range(3):
            spare = self.take_spare(slot, limits)
            if self.renice:  # prepared at OFF_PATH_NICE; the run starts at the server's niceness
                _renice(spare.pid, self.base_nice)
            if not self.trace:
                break
            # The parent may trace the spare although it runs as another uid
            # already (CAP_SYS_PTRACE); the run is traced from before it reads
            # its code to its exit.
            try:
                _linux.ptrace_seize_exit(spare.pid)
                break
            except OSError:
                # Holding CAP_SYS_PTRACE, a seize fails only for a spare that
                # ended, or is ending, before its code came (its report, when
                # it comes, matches nothing): another spare takes the run.
                self.discard_spare(spare, dead=True)
        else:
            raise SystemExit("no spare could be traced")
        cg = self.cgroups.get((slot, spare.half))
        if cg:
            self.settle(cg)
            try:
                cg.apply(limits)
            except OSError as e:  # e.g. a memory limit below what is still charged
                print(f"slot {slot}: cgroup limits not applied: {e}", file=sys.stderr)
        payload = {"code": req["code"], "harness": req.get("harness"), "limits": limits.to_json()}
        run = _Run(int(req["id"]), spare, limits, cg, spare.scratch)
        run.traced = self.trace
        try:
            # A signal handler (SIGCHLD) can cut a large blocking write short.
            data = memoryview(json.dumps(payload).encode())
            while data:
                data = data[os.write(spare.req_w, data) :]
        except OSError:
            # The spare died after it was traced and before it read its code
            # (traced, its pid stays its own until collected).
            run.kill_reason = "lost"
            _kill(spare.pid)
        os.close(spare.req_w)
        self.runs[spare.pid] = run
        for fd in run.open_fds:
            os.set_blocking(fd, False)
            self.fd_run[fd] = run
            self.sel.register(fd, selectors.EVENT_READ, "pipe")
        if not run.traced:
            # Unsandboxed or without CAP_SYS_PTRACE: its end is the zygote's
            # to report, and may have been reported already.
            self.on_child(run)
        # Ask for the slot's next spare now, while this run executes, so that
        # the fork (about 2 ms for a parent holding torch) and the spare's
        # preparation are off the next run's path. It comes back through the
        # event loop: this run's end is handled even while the zygote forks.
        self.fork_spare(slot)

    def on_pipe(self, fd: int) -> bool:
        """Read once from one of a run's pipes; False when it is empty for now or closed."""
        run = self.fd_run[fd]
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return False
        if not data:
            self.close_pipe(run, fd)
            return False
        if fd == run.spare.res_r:
            if len(run.extras) + len(data) <= MAX_EXTRAS_BYTES:
                run.extras += data
            return True
        buf = run.out if fd == run.spare.out_r else run.err
        room = run.limits.output_bytes - len(run.out) - len(run.err)
        if len(data) > room:
            buf += data[: max(room, 0)]
            run.truncated = True
            self.kill(run, "output")
        else:
            buf += data
        return True

    def close_pipe(self, run: _Run, fd: int) -> None:
        self.sel.unregister(fd)
        os.close(fd)
        run.open_fds.discard(fd)
        del self.fd_run[fd]

    def on_child(self, run: _Run) -> None:
        """Collect what the kernel reports of a run's PID 1: ptrace stops, then its end.

        Never blocks: called on SIGCHLD, on a report of the zygote and on the
        clock tick. While the run is traced, ``wait4`` (as its tracer) gives
        every stop and its end; once it is not (a fault, too many signals, or
        it died before its code came), its end comes from the zygote, its
        parent, which collects it and reports the wait status.
        """
        pid = run.spare.pid
        while not run.reaped:
            status: int | None = None
            cpu_s: float | None = None
            if run.traced:
                try:
                    got, status, rusage = os.wait4(pid, os.WNOHANG | _linux.WALL)
                except ChildProcessError:  # no longer ours to wait for
                    got, status = pid, None
                if got == 0:
                    return
                if status is not None and os.WIFSTOPPED(status):
                    self.on_stop(run, status)
                    continue
                if status is not None:
                    cpu_s = rusage.ru_utime + rusage.ru_stime
            if status is None:
                report = self.reports.pop(pid, None)
                if report is None:
                    if run.traced:
                        run.traced = False  # its end is now the zygote's to report
                        self.zygote_urgency()
                    return
                status, cpu_s, clock = report
                if run.rlimit_clock_s is None:
                    run.rlimit_clock_s = clock
            self.reports.pop(pid, None)
            run.reaped = True
            self.dying.pop(pid, None)
            if not run.traced:
                self.zygote_urgency()
            if run.wait is None:
                run.wait = (status, cpu_s)
                run.exited_at = time.monotonic()
            if not self.cfg["isolated"]:
                try:  # everything left in the run's session
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass

    def on_stop(self, run: _Run, status: int) -> None:
        """Handle one ptrace stop of a traced run's PID 1.

        At ``PTRACE_EVENT_EXIT`` the kernel already knows the exit status, but
        the process has yet to free its share of the torch-sized address space
        (milliseconds). The verdict is taken now: every process of the run is
        killed (the kernel would end the rest of the PID namespace only after
        PID 1's memory is freed, and they could keep writing), what is left in
        the pipes is read, at most :data:`DRAIN_LIMIT_BYTES`, and the pipes
        are closed; then PID 1 resumes its exit.

        A signal on its way to PID 1 is delivered as it would be untraced:
        stop signals are dropped unless the learner's code handles them (the
        init of a PID namespace ignores them; traced, a SIGSTOP would stop
        it), faults are handed back untraced (see below). After
        :data:`SIGNAL_STOP_BUDGET` signal stops the run is no longer traced,
        so that a run signalling itself in a loop cannot keep the parent busy.
        """
        pid = run.spare.pid
        event = status >> 16
        sig = 0
        if event == _linux.PTRACE_EVENT_EXIT:
            if run.wait is None:
                try:
                    exit_status = _linux.ptrace_event_message(pid)
                except OSError:
                    exit_status = None
                if exit_status is not None:
                    run.rlimit_clock_s = _linux.rlimit_cpu_clock_s(pid)
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                    if run.cg:
                        run.cg.kill_all()
                    budget = DRAIN_LIMIT_BYTES
                    for fd in list(run.open_fds):
                        while budget > 0 and fd in run.open_fds and self.on_pipe(fd):
                            budget -= 1 << 16
                        if fd in run.open_fds:
                            self.close_pipe(run, fd)
                    run.wait = (exit_status, None)
                    run.exited_at = time.monotonic()
                    if self.renice:  # its teardown is off every path now
                        _renice(pid, OFF_PATH_NICE)
        elif event == 0:
            sig = os.WSTOPSIG(status)  # signal-delivery stop: deliver it
            run.signal_stops += 1
            if sig in STOP_SIGNALS and not _handles(pid, sig):
                sig = 0
            elif sig in FAULT_SIGNALS or run.signal_stops > SIGNAL_STOP_BUDGET:
                # A fault kills even the init of a PID namespace, but only when
                # it is not traced (the kernel then lifts init's protection).
                # Let go of the run: it meets the fault again untraced and
                # ends as it would have; the zygote reports its end.
                run.traced = False
                try:
                    _linux.ptrace_detach(pid, sig)
                except OSError:
                    pass
                self.zygote_urgency()
                return
        try:
            _linux.ptrace_cont(pid, sig)
        except OSError:
            pass  # killed meanwhile

    def kill(self, run: _Run, reason: str) -> None:
        if run.kill_reason is None:
            run.kill_reason = reason
        if run.wait is None:
            try:
                os.kill(run.spare.pid, signal.SIGKILL)
                if not self.cfg["isolated"]:
                    os.killpg(run.spare.pid, signal.SIGKILL)
            except OSError:
                pass

    def check_clocks(self, now: float) -> None:
        if now - self.last_sweep >= CPU_POLL_S:  # in case a SIGCHLD was missed
            self.last_sweep = now
            for run in [*self.runs.values(), *self.dying.values()]:
                if run.traced and not run.reaped:
                    self.on_child(run)
        for run in list(self.runs.values()):
            if run.wait is not None:
                if run.open_fds and now - run.exited_at > EXIT_GRACE_S:
                    for fd in list(run.open_fds):  # held open by an escaped process
                        self.sel.unregister(fd)
                        os.close(fd)
                        del self.fd_run[fd]
                    run.open_fds.clear()
                continue
            if now >= run.deadline:
                self.kill(run, "wall")
            elif run.cg and now - run.last_poll >= CPU_POLL_S:
                run.last_poll = now
                if run.cg.cpu_ns() - run.cpu_before >= run.limits.cpu_seconds * 1e9:
                    self.kill(run, "cpu")

    def by_rlimit_cpu(self, run: _Run, cpu_ms: float, own_cpu_s: float) -> bool:
        """Whether the SIGKILL that ended ``run`` is the kernel's ``RLIMIT_CPU`` (its hard limit).

        Nothing inside a PID namespace can SIGKILL its init, and an OOM kill is ruled out
        before this is asked: in the sandbox such a SIGKILL is either ``RLIMIT_CPU`` or comes
        from outside. The kernel checks the limit on the process's tick-sampled user plus system
        time, which under load runs a few percent ahead of the scheduler's exact runtime that
        the cgroup (``cpu_ms``) and ``wait4`` count: a spin loop was killed at 5 s on the
        kernel's clock with 4.8 s in the cgroup. So the kernel's own clock decides, read at the
        exit stop or by the zygote before collecting the process (``run.rlimit_clock_s``); a
        margin on the other clocks only where it could not be read.
        """
        rlimit = child.rlimit_cpu_seconds(run.limits)
        if run.rlimit_clock_s is not None:
            return run.rlimit_clock_s >= rlimit - 0.001
        used_s = cpu_ms / 1000 if self.cfg["isolated"] and run.cg else own_cpu_s
        return used_s >= rlimit * 0.9

    def finish(self, run: _Run) -> None:
        del self.runs[run.spare.pid]
        if not run.reaped:
            self.dying[run.spare.pid] = run
        assert run.wait is not None
        status, own_cpu_s = run.wait
        limits = run.limits
        duration_ms = (run.exited_at - run.started) * 1000
        own_cpu = own_cpu_s or 0.0
        cpu_ms = (run.cg.cpu_ns() - run.cpu_before) / 1e6 if run.cg else own_cpu * 1000
        oom = bool(run.cg and run.cg.oom_kills() > run.oom_before)
        exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        message = None
        if run.kill_reason == "lost":
            result = "killed"
            message = "the sandbox for this run ended before its code started; please run it again"
        elif run.kill_reason == "wall":
            result, message = "timeout", limit_message("wall", limits)
        elif run.kill_reason == "cpu":
            result, message = "timeout", limit_message("cpu", limits)
        elif run.kill_reason == "output":
            result, message = "output_limit", limit_message("output", limits)
        elif oom:
            result, message = "memory", limit_message("memory", limits)
        elif os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig == signal.SIGXCPU or (sig == signal.SIGKILL and self.by_rlimit_cpu(run, cpu_ms, own_cpu)):
                result, message = "timeout", limit_message("cpu", limits)
            elif sig == signal.SIGXFSZ:
                result = "killed"
                message = f"stopped: a file grew past the {limits.file_size_mb} MB file-size limit"
            else:
                result = "killed"
                try:
                    name = signal.Signals(sig).name
                except ValueError:  # real-time signals have no name
                    name = f"number {sig}"
                message = f"stopped by signal {name}"
        elif exit_code == child.SETUP_FAILED and not run.extras:
            result, message = "error", "the sandbox for this run could not be prepared"
        elif exit_code:
            result = "error"
        else:
            result = "ok"
        extras: dict[str, Any] = {}
        try:
            extras = json.loads(run.extras) if run.extras else {}
            if not isinstance(extras, dict):
                extras = {}
        except ValueError:
            extras = {}
        if result == "error" and message is None:
            # The child's hint is a claim like its traceback: it only picks which sentence
            # of ours is shown, never a status or a limit.
            hint = extras.get("hint")
            if hint in child.HINTS:
                message = end_message(hint)
            elif not extras.get("traceback"):  # sys.exit(3), os._exit(5): say what the code means
                message = end_message("exit_code", exit_code)
        if run.scratch:
            shutil.rmtree(run.scratch, ignore_errors=True)

        def text(v: Any) -> str | None:
            return cap_output(make_inert(v), "", MAX_TRACEBACK_BYTES)[0] if isinstance(v, str) else None

        images = [
            i
            for i in extras.get("images") or []
            if isinstance(i, dict) and i.get("mime") == "image/png" and isinstance(i.get("data"), str)
        ]
        # What is sent is capped too: spelled-out control bytes take four characters each.
        stdout, stderr, cut = cap_output(
            make_inert(bytes(run.out)), make_inert(bytes(run.err)), limits.output_bytes
        )
        out = {
            "version": RESULT_VERSION,
            "status": result,
            "stdout": stdout,
            "stderr": stderr,
            "truncated": run.truncated or cut,
            "exit_code": exit_code,
            "duration_ms": round(duration_ms, 3),
            "cpu_ms": round(cpu_ms, 3),
            "traceback": text(extras.get("traceback")),
            "message": message,
            "images": [{"mime": "image/png", "data": i["data"]} for i in images],
            "modules": [m for m in extras.get("modules") or [] if isinstance(m, dict)],
            "report": extras.get("report"),
            "harness_error": text(extras.get("harness_error")),
        }
        self.send({"op": "result", "id": run.id, "result": out})
        if run.spare.slot not in self.spares and run.spare.slot not in self.pending:
            self.fork_spare(run.spare.slot)

    # -- control channel ---------------------------------------------------
    def send(self, msg: dict[str, Any]) -> None:
        data = json.dumps(msg).encode()
        frame = struct.pack(">I", len(data)) + data
        view, sent = memoryview(frame), 0
        while sent < len(frame):
            sent += os.write(self.ctl_out, view[sent:])

    def on_control(self) -> bool:
        data = os.read(self.ctl_in, 1 << 20)
        if not data:
            return False
        self.inbuf += data
        while len(self.inbuf) >= 4:
            (size,) = struct.unpack(">I", self.inbuf[:4])
            if len(self.inbuf) < 4 + size:
                break
            msg = json.loads(self.inbuf[4 : 4 + size])
            del self.inbuf[: 4 + size]
            if msg.get("op") == "run":
                self.dispatch(msg)
        return True

    def loop(self) -> None:
        for slot in range(self.cfg["slots"]):
            self.fork_spare(slot)
        for slot in range(self.cfg["slots"]):
            self.await_spare(slot, urgent=False)
        self.sel.register(self.ctl_in, selectors.EVENT_READ, "control")
        self.sel.register(self.zygote, selectors.EVENT_READ, "zygote")
        # Ptrace stops and the end of traced runs are reported by SIGCHLD.
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        self.sel.register(wake_r, selectors.EVENT_READ, "sigchld")
        self.send({"op": "ready", "pid": os.getpid()})
        while True:
            timeout = CPU_POLL_S if self.runs or self.dying else None
            for key, _ in self.sel.select(timeout):
                if key.data == "control":
                    if not self.on_control():
                        return
                elif key.data == "sigchld":
                    try:
                        while os.read(key.fd, 4096):
                            pass
                    except BlockingIOError:
                        pass
                    for run in [*self.runs.values(), *self.dying.values()]:
                        if run.traced:
                            self.on_child(run)
                elif key.data == "zygote":
                    while (got := self.zygote_message(wait=False)) is not None:
                        self.on_zygote(*got)
                elif key.fd in self.fd_run and key.fd in self.fd_run[key.fd].open_fds:
                    self.on_pipe(key.fd)
            now = time.monotonic()
            self.check_clocks(now)
            for run in [r for r in self.runs.values() if r.wait is not None and not r.open_fds]:
                self.finish(run)


def _read_config(fd: int) -> dict[str, Any]:
    """The first frame on the control channel: the service's configuration (JSON)."""

    def exactly(size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = os.read(fd, size - len(data))
            if not chunk:
                raise SystemExit("the service closed the channel before sending the configuration")
            data += chunk
        return data

    (size,) = struct.unpack(">I", exactly(4))
    cfg: dict[str, Any] = json.loads(exactly(size))
    return cfg


def main() -> None:
    """Entry point: the service's JSON configuration is the first frame on stdin.

    It is not an argument: a run is PID 1 of its own namespace and a copy of this process, so
    its ``/proc/1/cmdline`` is this process's command line.
    """
    ctl_in, ctl_out = os.dup(0), os.dup(1)
    cfg = _read_config(ctl_in)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # stray prints of the parent go to the log, never the channel
    os.close(devnull)
    _linux.prctl(_linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    if cfg["isolated"]:
        # bubblewrap asked for a capability its caller lacks keeps every
        # capability of the caller instead of failing (seen with 0.8.0):
        # give up whatever was not asked for (and the inheritable set).
        wanted = int(cfg["caps"])
        held = _linux.limit_capabilities(wanted)
        if held != wanted:
            print(f"the sandbox lacks capabilities {wanted & ~held:#x} of {wanted:#x}", file=sys.stderr)
        cfg["nice"] = bool(cfg.get("nice") and held >> _linux.CAP_SYS_NICE & 1) and _can_raise_priority()
        # Without CAP_SYS_PTRACE runs are not traced: their verdict comes from
        # the zygote's wait4 (slower, as for a fault), not the exit stop.
        cfg["trace"] = bool(held >> _linux.CAP_SYS_PTRACE & 1)
        # Once here rather than in every spare: children inherit the empty
        # bounding set. The parent never executes another program, so its own
        # capabilities are unaffected.
        _linux.drop_bounding_capabilities()
    _warm_up()
    # After the imports, so that everything shared with the children is in
    # huge pages: forks and child exits get about twice as cheap here.
    _linux.collapse_anonymous_memory()
    to_zygote, to_parent = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sys.stdout.flush()
    sys.stderr.flush()
    zygote_pid = _linux.fork_bare()
    if zygote_pid == 0:  # the zygote: before any request, nothing of one is here
        status = 0
        try:
            to_zygote.close()
            os.close(ctl_in)
            os.close(ctl_out)
            _linux.prctl(_linux.PR_SET_PDEATHSIG, signal.SIGKILL)
            Zygote(cfg, to_parent).loop()
        except BaseException as e:
            status = 1
            try:
                os.write(2, f"the zygote failed: {e!r}\n".encode())
            except BaseException:
                pass
        os._exit(status)
    to_parent.close()
    parent = WarmParent(cfg, ctl_in, ctl_out, to_zygote, zygote_pid)
    try:
        parent.loop()
    finally:
        for pid in list(parent.runs):
            _kill(pid)
        for spare in list(parent.spares.values()):
            parent.discard_spare(spare)
        for _, _, scratch in parent.pending.values():  # asked for, never come
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)
