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
import shlex
import shutil
import sys
import sysconfig
import time
from dataclasses import dataclass, field
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

#: The warm parent's program: ``sys.argv[1]`` is where the questlab package is; its configuration
#: comes as the first frame on stdin, not on the command line, which every run can read
#: (``/proc/1/cmdline``: a run is PID 1 of its namespace and a copy of the warm parent).
BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv[1]); from questlab.runner.warm import main; main()"

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


#: Reasons :func:`probe_bwrap` gives that :func:`serve_advice` has a remedy for.
BWRAP_MISSING = "bwrap is not installed (Debian package 'bubblewrap')"
NOT_ROOT = (
    "the sandbox must be started as root: each run drops to its own uid, "
    "which an unprivileged server cannot switch to"
)


def probe_bwrap() -> str | None:
    """Return None when bubblewrap mode can work here, else the reason it cannot."""
    if sys.platform != "linux":
        return "bubblewrap needs Linux"
    if bwrap_path() is None:
        return BWRAP_MISSING
    if os.geteuid() != 0:
        return NOT_ROOT
    for ctl in CONTROLLERS:
        if not os.access(CGROUP_V1 / ctl, os.W_OK):
            return f"cgroup v1 controller '{ctl}' is not mounted writable at {CGROUP_V1 / ctl}"
    if not os.path.exists("/proc/self/ns/pid"):
        return "PID namespaces are not available"
    return None


def serve_advice(reason: str) -> str:
    """The one sentence ``scripts/serve`` stops with when learner code cannot be sandboxed here.

    Args:
        reason: what :func:`probe_bwrap` said.

    Returns:
        What is wrong, what to do about it, and how to serve without a sandbox on purpose.
    """
    if reason == BWRAP_MISSING:
        fix = "install it with 'sudo apt-get install bubblewrap' (or run scripts/serve as root, which does)"
    elif reason == NOT_ROOT:
        fix = "start the server as root ('sudo scripts/serve')"
    else:
        fix = "see docs/operators.md"
    return (
        f"Learner code cannot be sandboxed here ({reason}): {fix}, or serve without a sandbox "
        "on purpose with 'scripts/serve --unsafe-no-sandbox' (or QUESTLAB_SANDBOX=none)."
    )


def serve_check() -> int:
    """``scripts/serve``'s check before serving: 0 when the sandbox can work or is off on purpose.

    The setting is ``QUESTLAB_SANDBOX`` (with the ``.env`` file when the settings can be read,
    i.e. after set-up). Otherwise prints :func:`serve_advice` on stderr and returns 1.
    """
    try:
        from questlab.settings import Settings

        mode = Settings().sandbox
    except Exception:  # noqa: BLE001 - before set-up (no pydantic) or a bad .env: the variable alone
        mode = os.environ.get("QUESTLAB_SANDBOX", "auto")
    if mode == "none":
        return 0
    reason = probe_bwrap()
    if reason is None:
        return 0
    print(f"scripts/serve: {serve_advice(reason)}", file=sys.stderr)
    return 1


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
#: Used only by the plain layout (:func:`sandbox_binds`), where overlayfs is not available.
RELOCATED_ROOTS = "/opt/questlab-python"
COVERED = ("/tmp", "/run", "/dev", "/proc")

#: The neutral layout (:func:`neutral_layout`): the base Python installation, the virtual
#: environment and, beside them, the package (``SANDBOX_PACKAGE_ROOT/questlab``).
SANDBOX_PYTHON = "/opt/questlab/python"
SANDBOX_VENV = "/opt/questlab/venv"
#: Where the host folders are bound first, to be stacked into overlays and unmounted.
LAYERS = "/opt/questlab/.layers"


def sandbox_binds() -> tuple[list[tuple[str, str]], str]:
    """The plain layout: the Python roots to bind into the sandbox, and the interpreter to start.

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


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


@dataclass
class Layout:
    """How the sandbox shows the host's Python and questlab at neutral paths (:func:`neutral_layout`).

    Attributes:
        layers: ``[(host folder, sandbox folder), ...]``: each host folder is bound read-only at
            ``LAYERS/<n>``, stacked into a read-only overlay at the sandbox folder and unbound
            again, so that no mount of the sandbox names a host path (a bind mount shows its
            source's path in ``/proc/self/mountinfo``; an overlay shows the paths it was given).
        executable: the interpreter to start, at its sandbox path.
        env: extra environment of the warm parent and the runs (``LD_LIBRARY_PATH`` when the
            interpreter finds ``libpython`` by an absolute host path that moved).
        top: files of the virtualenv's top layer, ``{path in the venv: text}`` (``pyvenv.cfg``
            naming the moved base installation; empty files over editable-install finders and
            ``direct_url.json`` files, which name the host's checkout), or an empty dict.
        python_link: ``bin/python3`` of the virtualenv's top layer links here (the venv's own
            links name the host's interpreter), or None without a virtualenv.
    """

    layers: list[tuple[str, str]]
    executable: str
    env: dict[str, str] = field(default_factory=dict)
    top: dict[str, str] = field(default_factory=dict)
    python_link: str | None = None


def neutral_layout() -> Layout:
    """Where the base installation, the virtualenv and the package appear in the sandbox.

    The base installation (``sys.base_prefix``) moves to :data:`SANDBOX_PYTHON` unless it lies
    under ``/usr`` (bound as it is), a virtualenv (``sys.prefix``) to :data:`SANDBOX_VENV`
    with a ``pyvenv.cfg`` whose ``home`` is the moved one, and the package to
    ``SANDBOX_PACKAGE_ROOT/questlab``. Tracebacks, ``sys.path``, module files,
    ``/proc/self/maps``, ``/proc/self/mountinfo`` and ``/proc/1/cmdline`` then show these
    paths, not the host's.

    Raises:
        ValueError: when the interpreter lies outside every root that moves or stays (an
            unusual installation; the plain layout is used then).
    """
    base = os.path.realpath(sys.base_prefix)
    prefix = os.path.realpath(sys.prefix)
    real_exe = os.path.realpath(sys.executable)
    venv = prefix if prefix != base else None
    layers: list[tuple[str, str]] = []
    env: dict[str, str] = {}
    if _inside(base, "/usr"):
        base_dest = base
    else:
        base_dest = SANDBOX_PYTHON
        layers.append((base, SANDBOX_PYTHON))
        lib = Path(base) / "lib"
        if any(lib.glob("libpython*.so*")):
            env["LD_LIBRARY_PATH"] = f"{SANDBOX_PYTHON}/lib"
    if _inside(real_exe, base):
        exe_dest = base_dest + real_exe[len(base.rstrip("/")) :] if base_dest != base else real_exe
    elif _inside(real_exe, "/usr"):
        exe_dest = real_exe
    else:
        raise ValueError(f"the interpreter {real_exe} is outside {base} and /usr")
    layers.append((str(Path(PACKAGE_ROOT) / "questlab"), f"{SANDBOX_PACKAGE_ROOT}/questlab"))
    if venv is None:
        return Layout(layers, exe_dest, env)
    layers.append((venv, SANDBOX_VENV))
    top = {"pyvenv.cfg": _pyvenv_cfg(Path(venv) / "pyvenv.cfg", str(Path(exe_dest).parent))}
    for site in sorted(Path(venv).glob("lib*/python*/site-packages")):
        hidden = [*site.glob("__editable__*"), *site.glob("*.dist-info/direct_url.json")]
        for path in hidden:
            top[str(path.relative_to(venv))] = ""
    return Layout(layers, f"{SANDBOX_VENV}/bin/python3", env, top, exe_dest)


def _pyvenv_cfg(path: Path, home: str) -> str:
    """The virtualenv's ``pyvenv.cfg`` with ``home`` moved; keys naming host paths left out."""
    lines = [f"home = {home}"]
    try:
        text = path.read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip().lower()
        if key and key not in ("home", "executable", "command"):
            lines.append(line.strip())
    return "\n".join(lines) + "\n"


def layout_env(neutral: bool) -> dict[str, str]:
    """Environment the neutral layout adds for the warm parent and the runs (empty for the plain one)."""
    if not neutral:
        return {}
    try:
        return neutral_layout().env
    except ValueError:
        return {}


def overlay_available() -> bool:
    """Whether the neutral layout can be built: overlayfs in the kernel, and ``sh`` and ``mount``."""
    try:
        with open("/proc/filesystems") as f:
            overlay = any(line.split()[-1:] == ["overlay"] for line in f)
    except OSError:
        overlay = False
    return overlay and os.path.exists("/bin/sh") and shutil.which("mount", path="/usr/bin:/bin") is not None


def _layer_script(layout: Layout, exec_argv: list[str]) -> str:
    """``sh`` script run first in the sandbox: stack the layers into overlays, unbind them, exec."""
    q = shlex.quote
    lines = ["set -e", f"mkdir -p {LAYERS}/empty"]
    if layout.python_link is not None:
        top = f"{LAYERS}/venv-top"
        lines.append(f"mkdir -p {top}/bin")
        lines.append(f"ln -s {q(layout.python_link)} {top}/bin/python3")
        for rel, text in layout.top.items():
            dest = f"{top}/{rel}"
            lines.append(f"mkdir -p {q(os.path.dirname(dest))}")
            lines.append(f"printf %s {q(text)} > {q(dest)}")
    for index, (_, dest) in enumerate(layout.layers):
        lower = f"{LAYERS}/{index}:{LAYERS}/empty"
        if dest == SANDBOX_VENV and layout.python_link is not None:
            lower = f"{LAYERS}/venv-top:{LAYERS}/{index}"
        lines.append(f"mount -t overlay overlay -o ro,lowerdir={lower} {q(dest)}")
        lines.append(f"umount -l {LAYERS}/{index}")
    lines.append("exec " + " ".join(q(arg) for arg in exec_argv))
    return "\n".join(lines)


def bwrap_command(config: dict[str, object], cgroups: SlotCgroups, neutral: bool | None = None) -> list[str]:
    """argv that starts the warm parent inside bubblewrap.

    The parent keeps only the capabilities it needs to build each child's
    sandbox (mounts and namespaces, switching uid, killing children, dropping
    the bounding set, tracing a run's exit); the children give up every
    capability.

    Args:
        config: the warm parent's configuration; it is not on the command line (see
            :func:`config_frame`), only the capability mask is added to it here.
        cgroups: the slots' cgroup folders, bound at :data:`SANDBOX_CGROUP_ROOT`.
        neutral: show Python and questlab at neutral paths (:func:`neutral_layout`, through a
            short ``sh`` step that stacks overlays); None: when :func:`overlay_available`.
            False keeps the plain layout (:func:`sandbox_binds`): host paths stay visible.

    Returns:
        The argv; the configuration goes to the process's stdin as
        ``config_frame(bwrap_config(config))``.
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
    layout: Layout | None = None
    if neutral is None:
        neutral = overlay_available()
    if neutral:
        try:
            layout = neutral_layout()
        except ValueError:
            layout = None
    env = {**BASE_ENV, **PARENT_ENV, "HOME": "/tmp", "MPLCONFIGDIR": "/tmp/.mpl"}
    if layout is not None:
        binds = [(src, f"{LAYERS}/{index}") for index, (src, _) in enumerate(layout.layers)]
        dirs = [dest for _, dest in layout.layers]
        executable = layout.executable
        env.update(layout.env)
    else:
        binds, executable = sandbox_binds()
        binds.append((str(Path(PACKAGE_ROOT) / "questlab"), f"{SANDBOX_PACKAGE_ROOT}/questlab"))
        dirs = []
    made: set[str] = set()
    for dest in [*(dest for _, dest in binds), *dirs]:
        # bwrap creates missing parents with the caller's umask; make them
        # traversable by the unprivileged run explicitly.
        for parent in [*reversed(Path(dest).parents), *([Path(dest)] if dest in dirs else [])]:
            if str(parent) not in ("/", "/usr", "/tmp", "/run", "/proc", "/dev") and str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
    for src, dest in binds:
        args += ["--ro-bind", src, dest]
    args += cgroups.binds()
    args += ["--chdir", "/tmp", "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--cap-drop", "ALL"]
    for name in parent_capabilities():
        args += ["--cap-add", name]
    python = [executable, "-I", "-c", BOOTSTRAP, SANDBOX_PACKAGE_ROOT]
    if layout is not None:
        # The overlays need CAP_SYS_ADMIN, which the warm parent holds anyway.
        args += ["--", "/bin/sh", "-c", _layer_script(layout, python)]
    else:
        args += ["--", *python]
    return args


def parent_capabilities() -> dict[str, int]:
    """Capabilities the sandboxed warm parent is started with: the needed ones, plus held optional ones.

    Only what this server holds: bubblewrap asked for more keeps every capability of its caller
    instead (the warm parent checks its set).
    """
    caps = dict(PARENT_CAPABILITIES)
    if _linux.holds_capability(OPTIONAL_CAPABILITIES["CAP_SYS_NICE"]):
        caps["CAP_SYS_NICE"] = OPTIONAL_CAPABILITIES["CAP_SYS_NICE"]
    return caps


def bwrap_config(config: dict[str, object]) -> dict[str, object]:
    """``config`` with what the sandboxed warm parent also needs: its capability mask and ``nice``."""
    caps = parent_capabilities()
    return {**config, "caps": sum(1 << bit for bit in caps.values()), "nice": "CAP_SYS_NICE" in caps}


def config_frame(config: dict[str, object]) -> bytes:
    """The configuration as the first frame on the warm parent's stdin (4-byte length, JSON)."""
    data = json.dumps(config).encode()
    return len(data).to_bytes(4, "big") + data


def plain_command(config: dict[str, object]) -> list[str]:
    """argv that starts the warm parent without a sandbox ("none" mode); send ``config_frame(config)``."""
    return [sys.executable, "-I", "-c", BOOTSTRAP, PACKAGE_ROOT]
