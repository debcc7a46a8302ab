"""Thin ctypes wrappers for the Linux calls the sandbox needs (x86_64).

Python 3.11 has no ``os.unshare``/``os.setns``/``mount``; these wrappers call
glibc directly. Every function raises ``OSError`` with the errno on failure.
Only the warm parent and its children (inside the sandbox) use this module.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import time

_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_SECCOMP = 22
PR_SET_PDEATHSIG = 1
SECCOMP_MODE_FILTER = 2


def _check(ret: int) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


# PyDLL: the interpreter lock stays held across the call, so the child
# resumes with it, as the one thread it has.
_fork = ctypes.PyDLL(None, use_errno=True).fork
_fork.restype = ctypes.c_int
_fork.argtypes = []


def fork_bare() -> int:
    """fork(2) through glibc, without Python's after-fork hooks in the child.

    ``os.fork`` runs the interpreter's after-fork work in the child (its
    ``PyOS_AfterFork_Child``: thread and lock re-initialisation, and every
    ``os.register_at_fork`` callback: logging re-creates the lock of each of
    its handlers, random reseeds...). In a process holding torch that writes
    to about 400 pages shared with the parent, each copied by the kernel:
    about 1 ms of CPU per child here. The warm parent has a single thread and
    forks only from its own loop, so nothing those hooks repair can be broken
    in the child: no other thread held a lock, the child's thread has the
    parent's thread identity, and the child reseeds what it uses itself.
    glibc's own ``pthread_atfork`` handlers (OpenMP's included) still run.
    Only for such a single-threaded caller.

    Returns:
        0 in the child, the child's pid in the parent.

    Raises:
        OSError: when fork fails (EAGAIN, ENOMEM).
    """
    return _check(_fork())


def unshare(flags: int) -> None:
    """unshare(2) the namespaces named by CLONE_* ``flags``."""
    _check(_libc.unshare(ctypes.c_int(flags)))


def setns(fd: int, nstype: int) -> None:
    """setns(2): join the namespace open at ``fd``."""
    _check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)))


def mount(
    source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None
) -> None:
    """mount(2); ``data`` is the comma-separated option string."""

    def enc(value: str | None) -> bytes | None:
        return value.encode() if value is not None else None

    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)))


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    """prctl(2) with integer arguments."""
    return _check(
        _libc.prctl(
            ctypes.c_int(option),
            ctypes.c_ulong(arg2),
            ctypes.c_ulong(arg3),
            ctypes.c_ulong(arg4),
            ctypes.c_ulong(arg5),
        )
    )


def _status_mask(field: str) -> int:
    """A capability mask line (``CapEff``, ``CapBnd``, ...) of ``/proc/self/status``; 0 if absent."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1], 16)
    return 0


def effective_capabilities() -> int:
    """This process's effective capability set as a bit mask (bit n = capability n)."""
    return _status_mask("CapEff")


def holds_capability(cap: int) -> bool:
    """Whether this process has capability number ``cap`` effective and in its bounding set.

    That is what a child it starts (bubblewrap) can be given.
    """
    return bool(_status_mask("CapEff") & _status_mask("CapBnd") & (1 << cap))


#: Capability numbers (linux/capability.h).
CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SETPCAP = 5, 6, 7, 8
CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_NICE = 19, 21, 23


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


_CAPABILITY_VERSION_3 = 0x20080522  # linux/capability.h: two 32-bit words per set


def limit_capabilities(mask: int) -> int:
    """Keep at most the capabilities in ``mask`` (effective and permitted); empty the inheritable set.

    A process can always give up capabilities. Used by the warm parent,
    whose set from bubblewrap may hold more than it asked for.

    Returns:
        The effective set afterwards, as a bit mask.

    Raises:
        OSError: from ``capget``/``capset``.
    """
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capget(ctypes.byref(header), data))
    for word in range(2):
        keep = (mask >> (32 * word)) & 0xFFFF_FFFF
        data[word].effective &= keep
        data[word].permitted &= keep
        data[word].inheritable = 0
    _check(_libc.capset(ctypes.byref(header), data))
    return effective_capabilities()


def drop_bounding_capabilities() -> None:
    """Empty the capability bounding set and the ambient set (needs CAP_SETPCAP)."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except OSError:
        last = 40
    for cap in range(last + 1):
        prctl(PR_CAPBSET_DROP, cap)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)


# --- ptrace: the exit status before the address space is torn down ------------

#: wait4 option __WALL: wait for any child or tracee, whatever its exit signal.
WALL = 0x40000000
PTRACE_CONT = 7
PTRACE_DETACH = 17
PTRACE_GETEVENTMSG = 0x4201
PTRACE_SEIZE = 0x4206
PTRACE_O_TRACEEXIT = 0x40
PTRACE_O_EXITKILL = 0x100000
PTRACE_EVENT_EXIT = 6
PTRACE_EVENT_STOP = 128

_ptrace = _libc.ptrace
_ptrace.restype = ctypes.c_long
_ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def ptrace_seize_exit(pid: int) -> None:
    """Trace ``pid`` (a child of the caller) so that it stops once as it begins to exit.

    ``PTRACE_SEIZE`` with ``PTRACE_O_TRACEEXIT`` (the tracee stops at the start
    of ``do_exit``, before its memory is freed, and the caller's ``wait4``
    reports ``PTRACE_EVENT_EXIT``) and ``PTRACE_O_EXITKILL`` (the tracee gets
    SIGKILL if the caller dies). Unlike ``PTRACE_ATTACH`` it sends no SIGSTOP.
    Source: ptrace(2).

    Raises:
        OSError: ESRCH when ``pid`` is gone, EPERM when it may not be traced.
    """
    options = PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL
    _check(_ptrace(PTRACE_SEIZE, pid, None, ctypes.c_void_p(options)))


def ptrace_event_message(pid: int) -> int:
    """``PTRACE_GETEVENTMSG``: at a ``PTRACE_EVENT_EXIT`` stop, the tracee's wait status.

    Returns:
        The status as ``wait4`` would report it once the process has ended
        (decode with ``os.WIFEXITED``, ``os.WEXITSTATUS``, ``os.WTERMSIG``).

    Raises:
        OSError: ESRCH when ``pid`` is not in a ptrace stop of the caller.
    """
    msg = ctypes.c_ulong(0)
    _check(_ptrace(PTRACE_GETEVENTMSG, pid, None, ctypes.cast(ctypes.byref(msg), ctypes.c_void_p)))
    return int(msg.value)


#: ``CPUCLOCK_PROF`` of a process CPU clock id: user plus system time, the clock ``RLIMIT_CPU`` is checked on.
CPUCLOCK_PROF = 0


def rlimit_cpu_clock_s(pid: int) -> float | None:
    """The CPU time of process ``pid`` as ``RLIMIT_CPU`` counts it, in seconds, or None.

    That is the process's ``utime + stime`` (all its threads), which the kernel samples per
    scheduler tick (a whole tick to the task running at it, less steal time), not the
    scheduler's exact runtime that cgroups and ``CLOCK_PROCESS_CPUTIME_ID`` count: under load
    the two differ by a few percent. Read it while the process can still be waited for (a
    ptrace exit stop, a zombie not yet collected); the pid must be visible to the caller.
    """
    try:
        return time.clock_gettime(((~pid) << 3) | CPUCLOCK_PROF)
    except (OSError, OverflowError):
        return None


def ptrace_cont(pid: int, sig: int = 0) -> None:
    """``PTRACE_CONT``: resume a tracee from a ptrace stop, delivering ``sig`` (0: none).

    Raises:
        OSError: ESRCH when ``pid`` is not in a ptrace stop of the caller
            (for example, already killed).
    """
    _check(_ptrace(PTRACE_CONT, pid, None, ctypes.c_void_p(sig)))


def ptrace_detach(pid: int, sig: int = 0) -> None:
    """``PTRACE_DETACH``: stop tracing a tracee in a ptrace stop, delivering ``sig``.

    Raises:
        OSError: ESRCH when ``pid`` is not in a ptrace stop of the caller.
    """
    _check(_ptrace(PTRACE_DETACH, pid, None, ctypes.c_void_p(sig)))


# --- seccomp ---------------------------------------------------------------

_AUDIT_ARCH_X86_64 = 0xC000003E
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_EPERM, _ENOSYS = 1, 38

# x86_64 numbers of calls a lesson never needs and that widen the kernel
# surface: namespaces and mounts, ptrace and cross-process memory, kernel
# modules and keyrings, eBPF, perf, userfaultfd, io_uring, handle-based open.
_DENIED = (
    101,
    135,
    155,
    161,
    163,
    165,
    166,
    167,
    168,
    169,
    170,
    171,
    175,
    176,
    179,
    246,
    248,
    249,
    250,
    272,
    298,
    303,
    304,
    308,
    310,
    311,
    313,
    320,
    321,
    323,
    425,
    426,
    427,
    428,
    429,
    430,
    431,
    432,
    442,
)
_CLONE = 56
_CLONE3 = 435
CLONE_PTRACE = 0x00002000
#: clone flags refused to learner code: new namespaces, and CLONE_PTRACE (a
#: child that inherits the warm parent's tracing of the run's PID 1 would be
#: a tracee nobody waits for, and PID 1's exit would wait for it for ever).
_NS_FLAGS = (
    CLONE_PTRACE
    | CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET
    | CLONE_NEWTIME
)


def _seccomp_program() -> bytes:
    ins: list[tuple[int, int, int, int]] = []
    LD_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
    ins.append((LD_ABS, 0, 0, 4))  # arch
    ins.append((JEQ, 1, 0, _AUDIT_ARCH_X86_64))
    ins.append((RET, 0, 0, _RET_KILL_PROCESS))
    ins.append((LD_ABS, 0, 0, 0))  # syscall number
    ins.append((JGE, 0, 1, 0x40000000))  # x32 ABI
    ins.append((RET, 0, 0, _RET_KILL_PROCESS))
    for nr in _DENIED:
        ins.append((JEQ, 0, 1, nr))
        ins.append((RET, 0, 0, _RET_ERRNO | _EPERM))
    # clone3 passes its flags in memory the filter cannot read: make libc fall
    # back to clone, whose flags are checked below.
    ins.append((JEQ, 0, 1, _CLONE3))
    ins.append((RET, 0, 0, _RET_ERRNO | _ENOSYS))
    ins.append((JEQ, 0, 3, _CLONE))
    ins.append((LD_ABS, 0, 0, 16))  # low half of args[0]
    ins.append((JSET, 0, 1, _NS_FLAGS))
    ins.append((RET, 0, 0, _RET_ERRNO | _EPERM))
    ins.append((RET, 0, 0, _RET_ALLOW))
    return b"".join(struct.pack("=HBBI", *i) for i in ins)


_PROGRAM = _seccomp_program() if platform.machine() == "x86_64" else b""


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp() -> bool:
    """Install the deny-list filter on the calling thread; no_new_privs must be set.

    Returns:
        True when a filter was installed, False on an architecture other than
        x86_64 (the filter is written for its syscall numbers).
    """
    if not _PROGRAM:
        return False
    buf = ctypes.create_string_buffer(_PROGRAM, len(_PROGRAM))
    prog = _SockFprog(len(_PROGRAM) // 8, ctypes.cast(buf, ctypes.c_void_p))
    _check(
        _libc.prctl(
            ctypes.c_int(PR_SET_SECCOMP),
            ctypes.c_ulong(SECCOMP_MODE_FILTER),
            ctypes.byref(prog),
            ctypes.c_ulong(0),
            ctypes.c_ulong(0),
        )
    )
    return True


MADV_COLLAPSE = 25
HUGE_PAGE = 2 << 20


def collapse_anonymous_memory() -> int:
    """Ask the kernel to back this process's anonymous memory with huge pages.

    ``madvise(MADV_COLLAPSE)`` (Linux 6.1+) on each private anonymous range
    (heap and anonymous maps) at least one huge page long. A process holding
    torch has ~80 MB of anonymous memory in small pages after its imports;
    with huge pages, each fork copies (and each child's exit tears down)
    one page-table entry per 2 MB instead of 512. Ranges the kernel cannot
    collapse are left as they are.

    Returns:
        The number of ranges collapsed; 0 where the kernel does not support it.
    """
    libc_madvise = _libc.madvise
    libc_madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    done = 0
    with open("/proc/self/maps") as f:
        lines = f.readlines()
    for line in lines:
        fields = line.split()
        path = fields[5] if len(fields) > 5 else ""
        if fields[1] != "rw-p" or path not in ("", "[heap]"):
            continue
        lo, hi = (int(x, 16) for x in fields[0].split("-"))
        start = (lo + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1)
        end = hi & ~(HUGE_PAGE - 1)
        if end > start and libc_madvise(start, end - start, MADV_COLLAPSE) == 0:
            done += 1
    return done
