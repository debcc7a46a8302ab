"""Host-side sandbox plumbing: finding bubblewrap, per-slot cgroups, the command line.

Nothing here runs learner code. :func:`probe_bwrap` says whether the
bubblewrap mode can work on this machine (and why not); :class:`SlotCgroups`
creates and removes the per-slot cgroup v1 folders; :func:`warm_parent_command`
builds the argv that starts the warm parent, inside bubblewrap or not.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sys
import sysconfig
import time
from pathlib import Path

from questlab.runner import _linux

CGROUP_V1 = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids", "cpuacct")
#: Slot uids come from [UID_BASE, UID_BASE + 64 * UID_BLOCKS); no host account
#: should use them. Each service takes its own block of 64 (picked from its
#: pid) so that two services on one host do not share RLIMIT_NPROC counts.
UID_BASE = 100_000
UID_BLOCKS = 10_000
MAX_SLOTS = 64


_instances = itertools.count()


def next_uid_base() -> int:
    """First slot uid for a new service of this process (distinct per service and pid)."""
    return UID_BASE + ((os.getpid() + 1009 * next(_instances)) % UID_BLOCKS) * MAX_SLOTS


#: Where the per-slot cgroup folders appear inside the sandbox.
SANDBOX_CGROUP_ROOT = "/run/questlab/cg"
#: Where the questlab package appears inside the sandbox.
SANDBOX_PACKAGE_ROOT = "/opt/questlab"
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)

BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv[2]); from questlab.runner.warm import main; main()"

# Environment of the warm parent and, with HOME/TMPDIR at scratch, of every
# run: an allow-list, so no server secret or database URL ever reaches it.
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
}
#: Added for the warm parent only: glibc asks for transparent huge pages for
#: its heap, which roughly halves the cost of each fork and child exit for a
#: process holding torch (fewer page-table entries to copy and tear down).
PARENT_ENV = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}


#: Capabilities the warm parent needs, by name and number: to build each
#: child's sandbox (SYS_ADMIN, SETUID, SETGID, KILL, SETPCAP) and to trace a
#: spare that already runs as its slot's uid and is the zygote's child (SYS_PTRACE).
PARENT_CAPABILITIES = {
    "CAP_KILL": _linux.CAP_KILL,
    "CAP_SETGID": _linux.CAP_SETGID,
    "CAP_SETUID": _linux.CAP_SETUID,
    "CAP_SETPCAP": _linux.CAP_SETPCAP,
    "CAP_SYS_PTRACE": _linux.CAP_SYS_PTRACE,
    "CAP_SYS_ADMIN": _linux.CAP_SYS_ADMIN,
}
#: Given to the warm parent when the server holds them: SYS_NICE lowers work no
#: request waits for and raises it back (warm.OFF_PATH_NICE).
OPTIONAL_CAPABILITIES = {"CAP_SYS_NICE": _linux.CAP_SYS_NICE}


class SandboxUnavailable(RuntimeError):
    """The bubblewrap sandbox was asked for and cannot work here; the message says why."""


def bwrap_path() -> str | None:
    """Path of the bwrap executable, or None."""
    return shutil.which("bwrap") or ("/usr/bin/bwrap" if os.path.exists("/usr/bin/bwrap") else None)


def probe_bwrap() -> str | None:
    """Return None when bubblewrap mode can work here, else the reason it cannot."""
    if sys.platform != "linux":
        return "bubblewrap needs Linux"
    if bwrap_path() is None:
        return "bwrap is not installed (Debian package 'bubblewrap')"
    if os.geteuid() != 0:
        return (
            "the sandbox must be started as root: each run drops to its own uid, "
            "which an unprivileged server cannot switch to"
        )
    for ctl in CONTROLLERS:
        if not os.access(CGROUP_V1 / ctl, os.W_OK):
            return f"cgroup v1 controller '{ctl}' is not mounted writable at {CGROUP_V1 / ctl}"
    if not os.path.exists("/proc/self/ns/pid"):
        return "PID namespaces are not available"
    return None


class SlotCgroups:
    """One cgroup per slot under each of memory, pids and cpuacct (cgroup v1).

    Layout: ``/sys/fs/cgroup/<ctl>/questlab/<instance>/slot<k>-<0|1>``: two
    per slot, used in turn, so a slot's next spare can join one while the
    current run occupies the other. The instance
    name carries the server's pid so stale folders of a crashed server can be
    recognised and removed.
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.instance = f"i{os.getpid()}-{time.monotonic_ns()}"
        self.dirs = {ctl: CGROUP_V1 / ctl / "questlab" / self.instance for ctl in CONTROLLERS}

    def create(self) -> None:
        """Create the folders (and remove stale ones of dead servers).

        Raises:
            SandboxUnavailable: when a folder cannot be created.
        """
        self._remove_stale()
        try:
            for base in self.dirs.values():
                for slot in range(self.slots):
                    for half in (0, 1):
                        (base / f"slot{slot}-{half}").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SandboxUnavailable(f"cannot create the runner's cgroups: {e}") from e

    def _remove_stale(self) -> None:
        for ctl in CONTROLLERS:
            root = CGROUP_V1 / ctl / "questlab"
            if not root.is_dir():
                continue
            for inst in root.iterdir():
                try:
                    pid = int(inst.name[1:].split("-")[0])
                except ValueError:
                    continue
                if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
                    _rmtree_cgroup(inst)

    def remove(self) -> None:
        """Remove this instance's folders; they must hold no process any more."""
        for base in self.dirs.values():
            for _ in range(20):
                if _rmtree_cgroup(base):
                    break
                time.sleep(0.05)

    def binds(self) -> list[str]:
        """bwrap arguments that show the folders at SANDBOX_CGROUP_ROOT/<ctl>."""
        args: list[str] = []
        for ctl, base in self.dirs.items():
            args += ["--bind", str(base), f"{SANDBOX_CGROUP_ROOT}/{ctl}"]
        return args


def _rmtree_cgroup(path: Path) -> bool:
    try:
        for child in path.iterdir():
            if child.is_dir():
                child.rmdir()
        path.rmdir()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _python_roots() -> list[str]:
    """Folders the interpreter, the standard library and site-packages live in."""
    roots = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        str(Path(os.path.realpath(sys.executable)).parent.parent),
    }
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    keep: list[str] = []
    for root in sorted(roots, key=len):
        if root.startswith("/usr/") or root == "/usr":
            continue
        if not any(root.startswith(k.rstrip("/") + "/") for k in keep):
            keep.append(root)
    return keep


#: Where Python roots that live under a folder the sandbox covers with a fresh tmpfs (a checkout
#: under /tmp, say) are bound instead: each run mounts its own /tmp, which would hide them.
RELOCATED_ROOTS = "/opt/questlab-python"
COVERED = ("/tmp", "/run", "/dev", "/proc")


def sandbox_binds() -> tuple[list[tuple[str, str]], str]:
    """The Python roots to bind into the sandbox, and the interpreter path to start there.

    Returns:
        ``([(host path, sandbox path), ...], executable)``: roots keep their path unless they lie
        under a covered folder (:data:`COVERED`), in which case they move to
        ``/opt/questlab-python/<n>`` and ``sys.executable`` moves with its root. A virtual
        environment finds its ``pyvenv.cfg`` next to the moved executable, so ``sys.prefix``
        and its site-packages follow.
    """
    binds: list[tuple[str, str]] = []
    executable = sys.executable
    for index, root in enumerate(_python_roots()):
        dest = root
        if any(root == c or root.startswith(c + "/") for c in COVERED):
            dest = f"{RELOCATED_ROOTS}/{index}"
            if executable.startswith(root.rstrip("/") + "/"):
                executable = dest + executable[len(root.rstrip("/")) :]
        binds.append((root, dest))
    return binds, executable


def bwrap_command(config: dict[str, object], cgroups: SlotCgroups) -> list[str]:
    """argv that starts the warm parent inside bubblewrap.

    The parent keeps only the capabilities it needs to build each child's
    sandbox (mounts and namespaces, switching uid, killing children, dropping
    the bounding set, tracing a run's exit); the children give up every
    capability.
    """
    bwrap = bwrap_path()
    assert bwrap is not None
    args = [
        bwrap,
        "--die-with-parent",
        "--new-session",
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "questlab-sandbox",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in ("/etc/ld.so.cache", "/etc/localtime", "/etc/mime.types", "/etc/fonts"):
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        "/run",
        "--dir",
        SANDBOX_CGROUP_ROOT,
    ]
    binds, executable = sandbox_binds()
    binds.append((str(Path(PACKAGE_ROOT) / "questlab"), f"{SANDBOX_PACKAGE_ROOT}/questlab"))
    made: set[str] = set()
    for _, dest in binds:
        # bwrap creates missing parents with the caller's umask; make them
        # traversable by the unprivileged run explicitly.
        for parent in reversed(Path(dest).parents):
            if str(parent) not in ("/", "/usr", "/tmp", "/run", "/proc", "/dev") and str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
    for src, dest in binds:
        args += ["--ro-bind", src, dest]
    args += cgroups.binds()
    args += ["--chdir", "/tmp", "--clearenv"]
    for key, value in {**BASE_ENV, **PARENT_ENV, "HOME": "/tmp", "MPLCONFIGDIR": "/tmp/.mpl"}.items():
        args += ["--setenv", key, value]
    args += ["--cap-drop", "ALL"]
    caps = dict(PARENT_CAPABILITIES)
    # Only what this server holds: bubblewrap asked for more keeps every
    # capability of its caller instead (the warm parent checks its set).
    if _linux.holds_capability(OPTIONAL_CAPABILITIES["CAP_SYS_NICE"]):
        caps["CAP_SYS_NICE"] = OPTIONAL_CAPABILITIES["CAP_SYS_NICE"]
    for name in caps:
        args += ["--cap-add", name]
    config = {**config, "caps": sum(1 << bit for bit in caps.values()), "nice": "CAP_SYS_NICE" in caps}
    args += ["--", executable, "-I", "-c", BOOTSTRAP, json.dumps(config), SANDBOX_PACKAGE_ROOT]
    return args


def plain_command(config: dict[str, object]) -> list[str]:
    """argv that starts the warm parent without a sandbox ("none" mode)."""
    return [sys.executable, "-I", "-c", BOOTSTRAP, json.dumps(config), PACKAGE_ROOT]
