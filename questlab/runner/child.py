"""What a single-use child does, from fork to exit.

The warm parent (:mod:`questlab.runner.warm`) forks one spare child per slot
ahead of time. The spare isolates itself (:func:`prepare_spare`) while it is
still privileged and waits for a request; when the code arrives it applies the
run's limits, drops to the slot's unprivileged uid for good and runs the
learner's code (:func:`serve_request`). It never returns: it ends with
``os._exit``.

File descriptors in the child (set up by the parent before ``prepare_spare``):
0 is /dev/null, 1 and 2 are the learner's stdout and stderr pipes, 3 is the
result pipe (one JSON document with traceback, images, modules and report),
4 is the request pipe. Everything the child says on fd 3 is treated by the
parent as a claim of the learner's process, never as a fact about limits or
exit status.
"""

from __future__ import annotations

import base64
import builtins
import errno
import io
import json
import linecache
import math
import os
import random
import resource
import socket
import sys
import traceback
import types
from typing import Any

from questlab.runner import _linux
from questlab.runner.limits import RunLimits

#: File name the learner's code is compiled under; tracebacks keep these frames.
LEARNER_FILE = "main.py"
RESULT_FD, REQUEST_FD = 3, 4
#: Exit status a child uses when the sandbox could not be set up.
SETUP_FAILED = 121
MAX_IMAGES = 8
MAX_IMAGE_BYTES = 4_000_000
MAX_MODULE_NODES = 500
MAX_REPORT_BYTES = 256_000


#: Modules of the warm parent that register ``os.register_at_fork`` hooks, and
#: why a spare, forked without running them (``_linux.fork_bare``), does not
#: need them. A test fails when the warm parent imports a module with a hook
#: not listed here.
AT_FORK_HOOKS = {
    "threading": "re-creates other threads' state; the warm parent has one thread",
    "logging": "re-creates handler locks another thread might hold; there is none",
    "concurrent.futures.thread": "re-creates a lock another thread might hold; there is none",
    "random": "reseeds random; done by _reseed",
    "torch.multiprocessing._atfork": "torch.get_num_threads() starts OpenMP; done by after_bare_fork",
    "matplotlib.font_manager": "clears the font cache; cleared in the parent before any fork",
}


def after_bare_fork() -> None:
    """What a spare needs of the after-fork hooks it skipped (see :data:`AT_FORK_HOOKS`)."""
    import torch

    torch.get_num_threads()  # initialises OpenMP in the child (torch's own hook, pytorch gh-28389)


def prepare_spare(cfg: dict[str, Any], slot: int, half: int, limits: RunLimits) -> None:
    """Isolate a freshly forked spare child before any request arrives.

    Args:
        cfg: the warm parent's configuration (``isolated``, ``cgroup_root``,
            ``uid_base``).
        slot: index of the slot this child serves; picks its uid and cgroups.
        half: which of the slot's two cgroups to join (0 or 1). A slot's next
            spare is prepared while its previous run may still occupy the other.
        limits: the limits the spare is prepared for (``scratch_mb`` sizes
            its scratch tmpfs).

    Raises:
        OSError: when a namespace, mount or cgroup step fails.
    """
    if not cfg["isolated"]:
        os.setsid()
        _linux.prctl(_linux.PR_SET_PDEATHSIG, 9)
        return
    uid = cfg["uid_base"] + slot
    # Joining a cgroup waits for an RCU grace period (up to ~15 ms here), so
    # it happens now, before the request, not when the code arrives.
    for ctl in ("memory", "pids", "cpuacct"):
        with open(f"{cfg['cgroup_root']}/{ctl}/slot{slot}-{half}/cgroup.procs", "w") as f:
            f.write("0")
    # We are PID 1 of a fresh PID namespace (the parent unshared it before
    # forking). A private mount namespace gives this run its own /proc,
    # scratch tmpfs, and a cover over the cgroup folders. Fresh IPC and
    # network namespaces keep runs apart from each other: the warm parent's
    # ones are shared by the whole pool, so without them a run could leave
    # SysV shared memory, semaphores or POSIX message queues for a later run
    # to read (and keep their memory charged to the slot's cgroup after it
    # ended), or talk to a concurrent run over 127.0.0.1 or an abstract Unix
    # socket. Both namespaces die with the run's last process, and with them
    # every segment, queue and socket it made. The new network namespace has
    # only a loopback interface, left down.
    _linux.unshare(_linux.CLONE_NEWNS | _linux.CLONE_NEWIPC | _linux.CLONE_NEWNET)
    _linux.mount(None, "/", None, _linux.MS_REC | _linux.MS_PRIVATE)
    _linux.mount("proc", "/proc", "proc", _linux.MS_NOSUID | _linux.MS_NODEV | _linux.MS_NOEXEC)
    _linux.mount(
        "tmpfs",
        "/tmp",
        "tmpfs",
        _linux.MS_NOSUID | _linux.MS_NODEV,
        f"size={limits.scratch_mb}m,mode=0700,uid={uid},gid={uid}",
    )
    if os.path.isdir("/dev/shm"):
        _linux.mount("/tmp", "/dev/shm", None, _linux.MS_BIND)
    _linux.mount(
        "tmpfs",
        "/run",
        "tmpfs",
        _linux.MS_NOSUID | _linux.MS_NODEV | _linux.MS_NOEXEC | _linux.MS_RDONLY,
        "size=16k,mode=0755",
    )


def _reseed() -> None:
    """Give torch's, NumPy's and ``random``'s global generators fresh state from ``os.urandom``.

    A spare would otherwise start from the warm parent's generator states,
    the same in every run. torch gets a 64-bit seed, ``random`` a 128-bit
    one, and NumPy's legacy Mersenne Twister a whole 624-word state (its
    documented ``set_state`` tuple). In a forked child this costs about
    0.6 ms of CPU, against 1.2 ms for each library's own entropy seeding
    (most of it NumPy's ``seed()``).
    """
    import numpy
    import torch

    seed = int.from_bytes(os.urandom(16), "little")
    torch.default_generator.manual_seed(seed & 0xFFFF_FFFF_FFFF_FFFF)
    random.seed(seed)
    key = numpy.frombuffer(os.urandom(624 * 4), dtype=numpy.uint32)
    numpy.random.set_state(("MT19937", key, 624))


def _read_request() -> dict[str, Any]:
    chunks = []
    while True:
        chunk = os.read(REQUEST_FD, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(REQUEST_FD)
    if not chunks:  # the parent is gone
        os._exit(SETUP_FAILED)
    data: dict[str, Any] = json.loads(b"".join(chunks))
    return data


def rlimit_cpu_seconds(limits: RunLimits) -> int:
    """``RLIMIT_CPU`` of each process of a run: ``cpu_seconds`` rounded up to whole seconds (at least 1)."""
    return max(1, math.ceil(limits.cpu_seconds))


def _rlimits(limits: RunLimits, isolated: bool) -> list[tuple[int, int]]:
    """(resource, value) pairs a run's processes are held to; soft = hard = value."""
    mb = 1024 * 1024
    pairs = [
        (resource.RLIMIT_CPU, rlimit_cpu_seconds(limits)),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * mb),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NICE, 0),  # may lower its priority, never raise it
    ]
    if isolated or os.geteuid() != 0:  # RLIMIT_NPROC does not hold root back
        pairs.append((resource.RLIMIT_NPROC, limits.processes))
    return pairs


def limits_fit(prepared: RunLimits, wanted: RunLimits, isolated: bool = True) -> bool:
    """Whether a spare prepared for ``prepared`` can serve a run with ``wanted``.

    A spare applies its limits before its request arrives, and then has no
    right left to raise them: it can lower each rlimit, but not raise one or
    resize its scratch. Limits the parent enforces (memory and processes in
    the cgroup, wall time, output) are applied per run and always fit, except
    memory without the sandbox (an address-space rlimit set from
    ``memory_mb``).

    Returns:
        True when every rlimit of ``wanted`` is at most the prepared one and
        the scratch sizes (and, unsandboxed, the memory limits) are equal.
    """
    have = dict(_rlimits(prepared, isolated=True))
    return (
        prepared.scratch_mb == wanted.scratch_mb
        and (isolated or prepared.memory_mb == wanted.memory_mb)
        and all(value <= have[res] for res, value in _rlimits(wanted, isolated=True))
    )


def _apply_limits(cfg: dict[str, Any], slot: int, limits: RunLimits) -> None:
    """Set rlimits, then (isolated) drop to the slot's uid with no way back."""
    for res, value in _rlimits(limits, cfg["isolated"]):
        resource.setrlimit(res, (value, value))
    if cfg["isolated"]:
        uid = cfg["uid_base"] + slot
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # clears permitted, effective and ambient capabilities
    else:
        # Without a memory cgroup the only memory brake is the address space,
        # relative to what the warm parent has already mapped.
        with open("/proc/self/statm") as f:
            vm = int(f.read().split()[0]) * resource.getpagesize()
        cap = vm + limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    _linux.prctl(_linux.PR_SET_NO_NEW_PRIVS, 1)
    if cfg["isolated"]:
        _linux.install_seccomp()


def _lower_limits(cfg: dict[str, Any], prepared: RunLimits, limits: RunLimits) -> None:
    """Lower the rlimits a spare applied for ``prepared`` to those of ``limits``."""
    if limits == prepared:
        return
    have = dict(_rlimits(prepared, cfg["isolated"]))
    for res, value in _rlimits(limits, cfg["isolated"]):
        if value != have.get(res):
            resource.setrlimit(res, (value, value))


class _TeeRaw(io.RawIOBase):
    """Raw stdout that also keeps the first ``cap`` bytes for the harness."""

    def __init__(self, fd: int, cap: int) -> None:
        self.fd, self.cap, self.kept = fd, cap, bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += data[:room]
        view, total = memoryview(data), 0
        while total < len(data):
            total += os.write(self.fd, view[total:])
        return total


#: errno values of a network attempt in a run (its network namespace has only a loopback, down).
NETWORK_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNREFUSED, errno.ENETDOWN, errno.EADDRNOTAVAIL}
)
#: What the parent may be told about why a run failed (``extras["hint"]``); it says it in words.
HINTS = ("no_network", "no_input")


class _InputGuard:
    """``input()`` for a run: the built-in one, remembering when it found no input.

    A run's stdin is /dev/null, so ``input()`` raises EOFError at once; the guard lets the
    parent say why ("runs have no keyboard input") instead of leaving a bare EOFError.
    """

    def __init__(self, original: Any) -> None:
        self.original, self.ran_dry = original, False

    def __call__(self, *args: Any) -> Any:
        try:
            return self.original(*args)
        except EOFError:
            self.ran_dry = True
            raise


def failure_hint(exc: BaseException | None, input_ran_dry: bool = False) -> str | None:
    """Why a run's uncaught exception happened, when it is something a run cannot do.

    Follows the exception's ``__cause__`` and ``__context__`` (libraries wrap network errors).

    Args:
        exc: the learner's uncaught exception, or None.
        input_ran_dry: ``input()`` found no input during the run.

    Returns:
        ``"no_input"`` for an EOFError after ``input()`` found nothing, ``"no_network"`` for a
        name lookup or connection failure (``socket.gaierror``, ``ConnectionRefusedError``, a
        ``urllib`` ``URLError`` over one, ``ENETUNREACH``...), else None (see :data:`HINTS`).
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, EOFError) and input_ran_dry:
            return "no_input"
        reason = getattr(exc, "reason", None)  # urllib.error.URLError(reason)
        for error in (exc, reason):
            if isinstance(error, (socket.gaierror, socket.herror)):
                return "no_network"
            if isinstance(error, OSError) and error.errno in NETWORK_ERRNOS:
                return "no_network"
        exc = exc.__cause__ or exc.__context__
    return None


def trim_traceback(exc: BaseException) -> str:
    """Format ``exc`` keeping only frames from the learner's own file.

    Returns:
        Text like Python's own, but every frame shown is in ``main.py`` (with
        its line number and source line); a SyntaxError keeps its caret.
    """
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == LEARNER_FILE]
    lines = []
    if frames:
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(frames))
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines)


def _module_tree(name: str, module: Any, budget: list[int]) -> dict[str, Any]:
    budget[0] -= 1
    params = list(module.parameters())
    node: dict[str, Any] = {
        "name": name,
        "class": type(module).__name__,
        "params": sum(_numel(p) for p in params),
        "trainable": sum(_numel(p) for p in params if p.requires_grad),
        "parameters": [
            {"name": pname, "shape": _shape(p), "numel": _numel(p)}
            for pname, p in module.named_parameters(recurse=False)
        ],
        "children": [],
    }
    for cname, child in module.named_children():
        if budget[0] <= 0:
            break
        node["children"].append(_module_tree(cname, child, budget))
    return node


def _numel(p: Any) -> int:
    try:
        return int(p.numel())
    except Exception:  # uninitialised lazy parameters
        return 0


def _shape(p: Any) -> list[int] | None:
    try:
        return [int(d) for d in p.shape]
    except Exception:
        return None


def collect_modules(ns: dict[str, Any]) -> list[dict[str, Any]]:
    """Module trees for each distinct nn.Module object bound to a public global.

    Returns:
        ``[{"name", "class", "params", "trainable", "parameters": [{"name",
        "shape", "numel"}], "children": [same shape]}]`` with at most
        :data:`MAX_MODULE_NODES` nodes in all.
    """
    import torch

    seen: set[int] = set()
    trees: list[dict[str, Any]] = []
    budget = [MAX_MODULE_NODES]
    for name, value in list(ns.items()):
        if name.startswith("_") or not isinstance(value, torch.nn.Module) or id(value) in seen:
            continue
        seen.add(id(value))
        if budget[0] <= 0:
            break
        try:
            trees.append(_module_tree(name, value, budget))
        except Exception:
            continue
    return trees


def collect_images() -> list[dict[str, str]]:
    """Open Matplotlib figures as ``[{"mime": "image/png", "data": base64}]``."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    images, total = [], 0
    for num in plt.get_fignums()[:MAX_IMAGES]:
        try:
            buf = io.BytesIO()
            plt.figure(num).savefig(buf, format="png")
        except Exception:
            continue
        data = buf.getvalue()
        total += len(data)
        if total > MAX_IMAGE_BYTES:
            break
        images.append({"mime": "image/png", "data": base64.b64encode(data).decode("ascii")})
    return images


def _run_harness(
    source: str,
    ns: dict[str, Any],
    exc: BaseException | None,
    tee: _TeeRaw,
    stdout: io.TextIOWrapper,
    extras: dict[str, Any],
) -> None:
    def learner_stdout() -> str:
        stdout.flush()
        return tee.kept.decode("utf-8", errors="replace")

    def report(obj: Any) -> None:
        text = json.dumps(obj)
        if len(text) > MAX_REPORT_BYTES:
            raise ValueError(f"report is {len(text)} bytes; the cap is {MAX_REPORT_BYTES}")
        extras["report"] = json.loads(text)

    hns = {
        "__name__": "__harness__",
        "__builtins__": builtins,
        "learner_ns": ns,
        "learner_exception": exc,
        "learner_stdout": learner_stdout,
        "report": report,
    }
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = io.StringIO()  # the harness's prints stay out of learner output
    try:
        exec(compile(source, "<harness>", "exec"), hns)
    except BaseException:
        extras["harness_error"] = traceback.format_exc()[-8000:]
    finally:
        sys.stdout, sys.stderr = saved


def serve_request(cfg: dict[str, Any], slot: int, prepared: RunLimits, scratch: str | None) -> None:
    """Finish the spare, wait for the request, run it, report, and ``os._exit``.

    Everything that does not depend on the code happens before the request is
    read, off the run's path: fresh random seeds, the rlimits of ``prepared``,
    the switch to the slot's uid, no_new_privs, the seccomp filter, the
    working directory and the output streams (the environment is the
    zygote's, set once to ``cfg["child_env"]`` and inherited). The request
    may then only lower the rlimits (see :func:`limits_fit`).

    Args:
        cfg: the warm parent's configuration.
        slot: the slot this child serves (its uid).
        prepared: the limits to apply now.
        scratch: the scratch folder (``sandbox="none"`` only; the sandbox's
            scratch is its own ``/tmp``).

    The exit status follows Python's: 0 for a normal end, 1 for an uncaught
    exception, the code given to ``sys.exit``.
    """
    _reseed()
    _apply_limits(cfg, slot, prepared)
    os.chdir(scratch or "/tmp")
    tee = _TeeRaw(1, prepared.output_bytes)
    stdout = io.TextIOWrapper(io.BufferedWriter(tee), encoding="utf-8", errors="backslashreplace")
    stderr = io.TextIOWrapper(
        open(2, "wb", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )
    sys.stdin = open(0, closefd=False)  # fd 0 is /dev/null
    sys.argv = [LEARNER_FILE]
    # A real module registered as __main__, as in a script: pickling (torch.save of a whole
    # model) finds the learner's classes by looking them up on sys.modules["__main__"].
    main_module = types.ModuleType("__main__")
    main_module.__dict__.update({"__builtins__": builtins, "__file__": LEARNER_FILE})

    request = _read_request()
    limits = RunLimits.from_json(request["limits"])
    _lower_limits(cfg, prepared, limits)
    tee.cap = limits.output_bytes
    sys.stdout, sys.stderr = stdout, stderr
    sys.modules["__main__"] = main_module

    guard = _InputGuard(builtins.input)
    builtins.input = guard
    code: str = request["code"]
    linecache.cache[LEARNER_FILE] = (len(code), None, code.splitlines(True), LEARNER_FILE)
    ns: dict[str, Any] = main_module.__dict__
    exc: BaseException | None = None
    exit_code = 0
    extras: dict[str, Any] = {"traceback": None, "report": None, "harness_error": None}
    try:
        exec(compile(code, LEARNER_FILE, "exec"), ns)
    except SystemExit as e:
        exc = e
        if e.code is None or isinstance(e.code, int):
            exit_code = int(e.code or 0) & 0xFF
        else:
            print(e.code, file=stderr)
            exit_code = 1
    except BaseException as e:  # the learner's exception is the result, not a crash
        exc, exit_code = e, 1
        extras["traceback"] = trim_traceback(e)
        print(extras["traceback"], file=stderr, end="")
        try:
            extras["hint"] = failure_hint(e, guard.ran_dry)
        except Exception:  # a hostile exception object: no hint
            pass
    try:
        stdout.flush()
    except Exception:
        pass
    if request.get("harness"):
        _run_harness(request["harness"], ns, exc, tee, stdout, extras)
    try:
        extras["images"] = collect_images()
        extras["modules"] = collect_modules(ns)
    except BaseException:
        extras.setdefault("images", [])
        extras.setdefault("modules", [])
    try:
        payload = json.dumps(extras, default=str).encode()
        view, sent = memoryview(payload), 0
        while sent < len(payload):
            sent += os.write(RESULT_FD, view[sent:])
    except BaseException:
        pass
    for stream in (stdout, stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(exit_code)
