"""Hostile programs: each gets the behaviour it must get, and the runner stays healthy.

Every test ends with :func:`assert_healthy`: an ordinary torch run still
succeeds and no process of any run is left on the host.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from questlab.runner import RunLimits, RunnerService
from questlab.runner.sandbox import PACKAGE_ROOT

from .conftest import FAKE_SECRET, FAST, assert_healthy, processes_left, run_many, sandbox_processes


@pytest.fixture()
def data_dir() -> Iterator[Path]:
    """A server data folder next to the code, as a real install has: root-owned, mode 600 files."""
    base = Path(PACKAGE_ROOT) / "data" / f"hostile-{os.getpid()}"
    base.mkdir(parents=True)
    (base / "questlab.db").write_text("SQLite format 3 -- users table: admin@example.org")
    (base / "secret_key").write_text(FAKE_SECRET)
    for path in (base, base / "questlab.db", base / "secret_key"):
        os.chmod(path, 0o600 if path.is_file() else 0o700)
    yield base
    shutil.rmtree(base)
    try:
        base.parent.rmdir()
    except OSError:
        pass  # holds other things


def test_read_etc_shadow(runner: RunnerService) -> None:
    r = runner.run_sync("print(open('/etc/shadow').read())")
    assert r.status == "error"
    assert "root:" not in r.stdout
    assert r.traceback and ("FileNotFoundError" in r.traceback or "PermissionError" in r.traceback)
    assert_healthy(runner)


def test_server_database_and_secret_are_invisible(runner: RunnerService, data_dir: Path) -> None:
    code = f"""
import os
for p in [{str(data_dir)!r}, {str(data_dir / "questlab.db")!r}, {str(data_dir / "secret_key")!r},
          {str(data_dir.parent)!r}]:
    print(p, os.path.exists(p))
# the checkout holding questlab may exist only as the parent of a bound virtualenv
root = {PACKAGE_ROOT!r}
print('checkout', sorted(os.listdir(root)) if os.path.isdir(root) else [])
for p in [{str(data_dir / "questlab.db")!r}, {str(data_dir / "secret_key")!r}]:
    try:
        print(open(p).read())
    except OSError as e:
        print('denied', type(e).__name__)
"""
    r = runner.run_sync(code)
    assert r.status == "ok", r
    assert " True" not in r.stdout
    checkout = [line for line in r.stdout.splitlines() if line.startswith("checkout")][0]
    assert set(eval(checkout.split(" ", 1)[1])) <= {".venv"}, checkout  # no data/, quests/, questlab/
    assert r.stdout.count("denied") == 2
    assert FAKE_SECRET not in r.stdout + r.stderr
    assert "admin@example.org" not in r.stdout
    assert_healthy(runner)


def test_write_outside_scratch(runner: RunnerService) -> None:
    code = """
import os
targets = ['/usr/evil', '/etc/evil', '/evil', '/opt/questlab/questlab/evil.py', '/proc/sys/kernel/hostname',
           '/sys/evil', '/root/evil', '/run/evil', '/dev/evil']
for t in targets:
    try:
        with open(t, 'w') as f:
            f.write('x')
        print('WROTE', t)
    except OSError as e:
        print('refused', t, type(e).__name__)
open('scratch-ok.txt', 'w').write('fine')
print('scratch', open('/tmp/scratch-ok.txt').read(), os.getcwd())
"""
    r = runner.run_sync(code)
    assert r.status == "ok", r
    assert "WROTE" not in r.stdout
    assert r.stdout.count("refused") == 9
    assert "scratch fine /tmp" in r.stdout
    assert not os.path.exists(os.path.join(PACKAGE_ROOT, "questlab", "evil.py"))
    assert_healthy(runner)


def test_no_network(runner: RunnerService) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    code = f"""
import socket
for addr in [('127.0.0.1', {port}), ('8.8.8.8', 53), ('10.0.0.1', 80)]:
    try:
        socket.create_connection(addr, timeout=1)
        print('CONNECTED', addr)
    except OSError as e:
        print('no route', addr, type(e).__name__)
try:
    print('RESOLVED', socket.getaddrinfo('pypi.org', 443))
except OSError as e:
    print('no dns', type(e).__name__)
"""
    try:
        r = runner.run_sync(code)
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()
    assert r.status == "ok", r
    assert "CONNECTED" not in r.stdout and "RESOLVED" not in r.stdout
    assert r.stdout.count("no route") == 3 and "no dns" in r.stdout
    assert_healthy(runner)


def test_fork_bomb(runner: RunnerService) -> None:
    code = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
    r = runner.run_sync(code)
    assert r.status == "timeout", r
    assert_healthy(runner)


def test_thread_bomb(runner: RunnerService) -> None:
    code = """
import threading, time
n = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        n += 1
except RuntimeError as e:
    print('stopped at', n, e)
"""
    r = runner.run_sync(code)
    assert r.status == "ok", r
    n = int(r.stdout.split()[2])
    assert 8 <= n < FAST.processes
    assert_healthy(runner)


def test_memory_bomb_bytearrays(runner: RunnerService) -> None:
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(b'x' * 10_000_000))\n"
    r = runner.run_sync(code)
    assert r.status == "memory", r
    assert r.message == "stopped: the run used more than 256 MB of memory"
    assert_healthy(runner)


def test_memory_bomb_4gb_tensor(runner: RunnerService) -> None:
    r = runner.run_sync("import torch\nx = torch.ones(1024, 1024, 1024)\nprint(x.sum())")
    assert r.status == "memory", r
    assert_healthy(runner)


def test_memory_bomb_in_scratch_files(runner: RunnerService) -> None:
    # tmpfs pages count against the run's memory; the scratch cap stops it first.
    code = (
        "for i in range(100):\n    with open(f'/dev/shm/big{i}', 'wb') as f:\n"
        "        for _ in range(10):\n            f.write(b'x' * 1_000_000)\n"
    )
    r = runner.run_sync(code)
    assert r.status == "error", r
    assert "No space left on device" in (r.traceback or "")
    assert_healthy(runner)


def test_cpu_spin_in_python(runner: RunnerService) -> None:
    r = runner.run_sync("while True:\n    pass\n", limits=RunLimits(cpu_seconds=1, wall_seconds=5))
    assert r.status == "timeout", r
    assert r.message == "stopped after 1 s of CPU time"
    assert 800 <= r.cpu_ms < 2500
    assert_healthy(runner)


def test_cpu_spin_in_one_c_call(runner: RunnerService) -> None:
    r = runner.run_sync(
        "import math\nmath.factorial(10**8)\n", limits=RunLimits(cpu_seconds=1, wall_seconds=5)
    )
    assert r.status == "timeout", r
    assert r.message == "stopped after 1 s of CPU time"
    assert r.duration_ms < 4900  # well before the wall limit
    assert_healthy(runner)


def test_sleep_forever(runner: RunnerService) -> None:
    r = runner.run_sync(
        "import time\nprint('going to sleep', flush=True)\ntime.sleep(10**6)\n",
        limits=RunLimits(wall_seconds=1.5),
    )
    assert r.status == "timeout", r
    assert r.message == "stopped after 1.5 s of wall-clock time"
    assert r.stdout == "going to sleep\n"
    assert 1400 <= r.duration_ms < 4000
    assert_healthy(runner)


def test_ignore_sigterm(runner: RunnerService) -> None:
    code = (
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "while True:\n    time.sleep(0.1)\n"
    )
    r = runner.run_sync(code, limits=RunLimits(wall_seconds=1.5))
    assert r.status == "timeout", r
    assert_healthy(runner)


def test_double_fork_setsid_leaves_nothing_behind(runner: RunnerService) -> None:
    code = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv('/bin/sleep', ['sleep', '4242.4242'])
    os._exit(0)
time.sleep(0.3)
print('left a process behind')
"""
    r = runner.run_sync(code)
    assert r.status == "ok", r
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and b"4242.4242" in _cmdline(p)]
    assert leftovers == []
    assert_healthy(runner)


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


def test_endless_print(runner: RunnerService) -> None:
    r = runner.run_sync("while True:\n    print('spam spam spam')\n")
    assert r.status == "output_limit", r
    assert r.truncated
    assert len(r.stdout.encode()) + len(r.stderr.encode()) <= FAST.output_bytes
    assert r.message == f"stopped after {FAST.output_bytes} bytes of output"
    assert_healthy(runner)


def test_one_enormous_line(runner: RunnerService) -> None:
    r = runner.run_sync("import sys\nsys.stdout.write('x' * 50_000_000)\n")
    assert r.status == "output_limit", r
    assert r.truncated and set(r.stdout) == {"x"} and len(r.stdout) == FAST.output_bytes
    assert_healthy(runner)


def test_invalid_utf8_and_terminal_escapes(runner: RunnerService) -> None:
    code = (
        "import sys\n"
        "sys.stdout.buffer.write(b'bad \\xff\\xfe | clear \\x1b[2J | '\n"
        "                        b'title \\x1b]0;pwned\\x07 | csi \\xc2\\x9b31m\\n')\n"
        "sys.stderr.write('err \\x1b[31mred\\x1b[0m\\n')\n"
    )
    r = runner.run_sync(code)
    assert r.status == "ok", r
    for text in (r.stdout, r.stderr):
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "\ufffd" in r.stdout
    assert "\\x1b[2J" in r.stdout and "\\x9b31m" in r.stdout
    assert r.stderr == "err \\x1b[31mred\\x1b[0m\n"
    assert_healthy(runner)


def test_environment_and_proc_environ_hold_no_secret(runner: RunnerService) -> None:
    code = """
import os
print(dict(os.environ))
for path in ('/proc/1/environ', '/proc/self/environ'):
    try:
        print(open(path, 'rb').read())
    except OSError as e:
        print(path, type(e).__name__)
print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))
"""
    r = runner.run_sync(code)
    assert r.status == "ok", r
    assert FAKE_SECRET not in r.stdout
    assert "QUESTLAB" not in r.stdout
    assert r.stdout.splitlines()[-1] == "[1]"  # its own PID namespace: nothing else to see
    assert_healthy(runner)


def test_signal_or_kill_the_parent(runner: RunnerService) -> None:
    assert runner._parent is not None
    parent_pid = runner._parent.proc.pid
    code = """
import os, signal
for target in [os.getppid(), 0, -1] + list(range(2, 200)):
    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
        try:
            os.kill(target, sig)
        except OSError:
            pass
print('still here', os.getppid())
"""
    r = runner.run_sync(code)
    assert r.status == "ok", r
    assert runner._parent.proc.pid == parent_pid and runner._parent.alive
    assert_healthy(runner)


def test_warm_parent_crash_is_survived(runner: RunnerService) -> None:
    assert runner._parent is not None
    old_pid = runner._parent.proc.pid
    results: list[object] = []
    t = threading.Thread(
        target=lambda: results.append(
            runner.run_sync("import time\ntime.sleep(2)\n", limits=RunLimits(wall_seconds=5))
        )
    )
    t.start()
    time.sleep(0.5)
    os.kill(old_pid, signal.SIGKILL)  # the whole sandbox goes with it (--die-with-parent)
    t.join(30)
    assert results and results[0].status == "killed"  # type: ignore[attr-defined]
    assert_healthy(runner)
    assert runner._parent.proc.pid != old_pid


@pytest.mark.parametrize(
    "code, status, exit_code",
    [
        ("print('before', flush=True)\nimport sys\nsys.exit(3)\nprint('after')", "error", 3),
        ("print('before', flush=True)\nimport sys\nsys.exit(0)\nprint('after')", "ok", 0),
        ("print('before', flush=True)\nimport os\nos._exit(5)\nprint('after')", "error", 5),
        ("print('before', flush=True)\nimport os\nos._exit(0)\nprint('after')", "ok", 0),
    ],
)
def test_exit_mid_run(runner: RunnerService, code: str, status: str, exit_code: int) -> None:
    r = runner.run_sync(code)
    assert (r.status, r.exit_code, r.stdout) == (status, exit_code, "before\n")
    assert_healthy(runner)


def test_files_do_not_survive_into_the_next_run(runner: RunnerService) -> None:
    write = """
import os
for p in ['/tmp/left.txt', '/dev/shm/left.txt', 'cwd-left.txt']:
    open(p, 'w').write('from an earlier run')
print(sorted(os.listdir('/tmp')))
"""
    look = """
import os
paths = ['/tmp/left.txt', '/dev/shm/left.txt', 'cwd-left.txt']
print([p for p in paths if os.path.exists(p)], os.listdir('/tmp'))
"""
    first = runner.run_sync(write)
    assert first.status == "ok" and "left.txt" in first.stdout
    # Both slots, several times: no run may see another's files.
    for r in run_many(runner, [look] * 4):
        assert r.status == "ok" and r.stdout == "[] []\n", r
    assert_healthy(runner)


def test_eight_concurrent_torch_runs(runner: RunnerService) -> None:
    code = "import torch\na = torch.randn(256, 256)\nprint((a @ a).shape)\n"
    results = run_many(runner, [code] * 8, limits=RunLimits(wall_seconds=10, cpu_seconds=5))
    assert [r.status for r in results] == ["ok"] * 8, results
    assert all(r.stdout == "torch.Size([256, 256])\n" for r in results)
    assert_healthy(runner)


def test_isolation_facts_inside_a_run(runner: RunnerService) -> None:
    code = """
import os, socket
status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())
print(os.getuid(), os.getgid(), os.getgroups())
print(status['CapEff'].strip(), status['CapBnd'].strip(), status['CapPrm'].strip())
print(status['NoNewPrivs'].strip(), status['Seccomp'].strip())
print(socket.gethostname(), os.path.exists('/sys/class/net'))
try:
    os.unshare = None
    import ctypes
    print('unshare', ctypes.CDLL(None, use_errno=True).unshare(0x10000000), ctypes.get_errno())
except Exception as e:
    print('unshare error', e)
"""
    r = runner.run_sync(code)
    assert r.status == "ok", r
    lines = r.stdout.splitlines()
    uid = int(lines[0].split()[0])
    assert 0 <= uid - runner.uid_base < runner.slots and lines[0].endswith("[]")
    assert lines[1] == "0000000000000000 0000000000000000 0000000000000000"
    assert lines[2] == "1 2"
    assert lines[3].startswith("questlab-sandbox")
    assert lines[4] == "unshare -1 1"  # user namespaces refused by seccomp (EPERM)
    assert processes_left(runner) == []


# SysV IPC through libc: these objects live in the IPC namespace, not in any file.
_SYSV = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
IPC_CREAT = 0o1000

def sysv_tables():
    return {t: open('/proc/sysvipc/' + t).read().splitlines()[1:] for t in ('shm', 'sem', 'msg')}
"""


def test_sysv_ipc_of_one_run_is_invisible_to_the_next(runner: RunnerService) -> None:
    write = (
        _SYSV
        + """
print('start', sysv_tables())
shmid = libc.shmget(0x5151, 4096, IPC_CREAT | 0o666)
assert shmid >= 0, ctypes.get_errno()
addr = libc.shmat(shmid, None, 0)
ctypes.memmove(addr, b'secret of run A', 15)
assert libc.semget(0x5152, 1, IPC_CREAT | 0o666) >= 0
assert libc.msgget(0x5153, IPC_CREAT | 0o666) >= 0
mq = libc.mq_open(b'/questlab-leak', os.O_CREAT | os.O_RDWR, 0o666, None)
print('created', mq >= 0, {t: len(rows) for t, rows in sysv_tables().items()})
"""
    )
    look = (
        _SYSV
        + """
print('start', sysv_tables())
print('shm', libc.shmget(0x5151, 0, 0), 'sem', libc.semget(0x5152, 0, 0),
      'msg', libc.msgget(0x5153, 0), 'mq', libc.mq_open(b'/questlab-leak', os.O_RDWR, 0, None))
"""
    )
    first = runner.run_sync(write)
    assert first.status == "ok", first
    assert first.stdout.splitlines()[0] == "start {'shm': [], 'sem': [], 'msg': []}"
    assert first.stdout.splitlines()[1] == "created True {'shm': 1, 'sem': 1, 'msg': 1}"
    # Both slots (and both cgroup halves of each), several times.
    for r in run_many(runner, [look] * 4):
        assert r.status == "ok", r
        assert r.stdout == "start {'shm': [], 'sem': [], 'msg': []}\nshm -1 sem -1 msg -1 mq -1\n", r
    assert_healthy(runner)


def test_concurrent_runs_cannot_reach_each_other(runner: RunnerService) -> None:
    # A listens on 127.0.0.1 TCP and on an abstract Unix socket and holds a SysV
    # segment; B, running at the same time in the other slot, tries all three.
    listener = (
        _SYSV
        + """
import socket, time
shmid = libc.shmget(0x5161, 4096, IPC_CREAT | 0o666)
ctypes.memmove(libc.shmat(shmid, None, 0), b'held by A', 9)
servers = []
for family, addr in [(socket.AF_INET, ('127.0.0.1', 7777)), (socket.AF_UNIX, '\\0questlab-iso')]:
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind(addr)
        s.listen(5)
        s.settimeout(0.1)
        servers.append(s)
    except OSError as e:
        print('listen', addr, type(e).__name__)
print('A listening', len(servers), flush=True)
end = time.monotonic() + 2.5
while time.monotonic() < end:
    for s in servers:
        try:
            conn, _ = s.accept()
            print('A GOT', conn.recv(100))
        except OSError:
            pass
"""
    )
    talker = (
        _SYSV
        + """
import socket, time
time.sleep(0.8)
for family, addr in [(socket.AF_INET, ('127.0.0.1', 7777)), (socket.AF_UNIX, '\\0questlab-iso')]:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect(addr)
        s.sendall(b'hello from B')
        print('B CONNECTED', addr)
    except OSError as e:
        print('B refused', type(e).__name__)
print('B shm', libc.shmget(0x5161, 0, 0), sysv_tables()['shm'])
"""
    )
    a, b = run_many(runner, [listener, talker], limits=RunLimits(wall_seconds=6, cpu_seconds=4))
    assert a.status == "ok" and b.status == "ok", (a, b)
    assert "A listening 2" in a.stdout, a  # binding works; the other run just cannot reach it
    assert "A GOT" not in a.stdout and "CONNECTED" not in b.stdout, (a, b)
    assert b.stdout.count("B refused") == 2, b
    assert "B shm -1 []" in b.stdout, b
    assert_healthy(runner)


def test_sysv_shared_memory_is_freed_with_its_run(runner: RunnerService) -> None:
    # Segments used to outlive their run and stay charged to the slot's memory
    # cgroup, so that later runs hit the memory limit with little of their own.
    hog = (
        _SYSV
        + """
size = 300 * 1024 * 1024
shmid = libc.shmget(0, size, IPC_CREAT | 0o600)  # IPC_PRIVATE: a new segment each time
assert shmid >= 0, ctypes.get_errno()
addr = libc.shmat(shmid, None, 0)
ctypes.memset(addr, 120, size)  # every page now belongs to the run's cgroup
print('held', size >> 20)
"""
    )
    big = "data = b'x' * (400 * 1024 * 1024)\nprint(len(data) >> 20)\n"
    default = RunLimits()
    assert default.memory_mb == 512
    # Every slot and both cgroup halves of each get a segment left behind ...
    for r in run_many(runner, [hog] * 4, limits=default):
        assert r.status == "ok" and r.stdout == "held 300\n", r
    # ... and each of them still has room for 400 MB afterwards.
    for r in run_many(runner, [big] * 4, limits=default):
        assert r.status == "ok" and r.stdout == "400\n", r
    assert_healthy(runner)


def test_clone_with_ptrace_is_refused(runner: RunnerService) -> None:
    # The warm parent traces each run's PID 1; a child made with CLONE_PTRACE would
    # inherit that tracing and become a tracee nobody waits for.
    code = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(56, 0x2000 | 17, 0, 0, 0, 0)
print(r, ctypes.get_errno())
"""
    r = runner.run_sync(code)
    assert r.status == "ok" and r.stdout == "-1 1\n", r
    assert_healthy(runner)


def test_children_filling_the_result_pipe_at_exit(runner: RunnerService) -> None:
    # Children keep writing to the result pipe (fd 3) while PID 1 exits: the answer
    # must still come at once, and the parent must not spin reading them.
    code = """
import fcntl, os, sys
for _ in range(3):
    if os.fork() == 0:
        try:
            fcntl.fcntl(3, 1031, 1 << 20)  # F_SETPIPE_SZ
        except OSError:
            pass
        while True:
            os.write(3, b'x' * 65536)
print('bye')
sys.stdout.flush()
os._exit(0)
"""
    r = runner.run_sync(code)
    assert r.status == "ok" and r.stdout == "bye\n", r
    assert r.duration_ms < 2000, r
    assert_healthy(runner)


def test_the_runs_processes_are_killed_when_it_is_answered(runner: RunnerService) -> None:
    # The answer comes at PID 1's exit stop; by then every other process of the run must
    # already be dying (SIGKILL pending, exiting, or a zombie), not merely end once PID 1
    # has freed its memory (150 MB here, so that takes a while).
    code = """
import subprocess, sys, time
ps = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(2)]
big = b'x' * (150 << 20)
time.sleep(0.3)
print('started')
"""
    r = runner.run_sync(code)
    assert r.status == "ok" and r.stdout == "started\n", r
    alive = []
    for entry in sandbox_processes(runner):
        pid = entry.split()[0]
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pending = int(fields["SigPnd"], 16) | int(fields["ShdPnd"], 16)
        exiting = int(stat[6]) & 0x4  # PF_EXITING
        if stat[0] not in ("Z", "X") and not exiting and not pending & (1 << (signal.SIGKILL - 1)):
            alive.append(entry)
    assert alive == []
    assert_healthy(runner)


def test_a_run_signalling_itself_in_a_loop(runner: RunnerService) -> None:
    # Each signal to a traced PID 1 is a stop the parent handles; past a budget the run
    # is let go untraced. The handler still runs every time and the runner stays healthy.
    code = """
import os, signal
n = [0]
signal.signal(signal.SIGUSR1, lambda s, f: n.__setitem__(0, n[0] + 1))
for _ in range(3000):
    os.kill(os.getpid(), signal.SIGUSR1)
print(n[0])
"""
    r = runner.run_sync(code)
    assert r.status == "ok" and r.stdout == "3000\n", r
    assert_healthy(runner)


def test_a_stop_signal_to_itself_does_not_freeze_its_threads(runner: RunnerService) -> None:
    code = """
import os, signal, threading, time
t = threading.Thread(target=time.sleep, args=(0.2,))
t.start()
os.kill(os.getpid(), signal.SIGSTOP)
os.kill(os.getpid(), signal.SIGTSTP)
t.join()
print('done')
"""
    r = runner.run_sync(code)
    assert r.status == "ok" and r.stdout == "done\n", r
    assert_healthy(runner)


def test_a_large_program_arrives_whole(runner: RunnerService) -> None:
    code = "x = '" + "a" * 900_000 + "'\nprint(len(x))\n"
    r = runner.run_sync(code)
    assert r.status == "ok" and r.stdout == "900000\n", r


_SECRET_SEARCH = """
import ctypes, gc, sys
key = 0x5A
nb = bytes(b ^ key for b in NEEDLE_XORED)  # never spelled out in this program
skip = range(id(nb), id(nb) + 128)
hits = []
with open('/proc/self/maps') as f:
    maps = f.read().splitlines()
for line in maps:
    fields = line.split()
    if not fields[1].startswith('rw') or (len(fields) > 5 and fields[5].startswith('[v')):
        continue
    lo, hi = (int(x, 16) for x in fields[0].split('-'))
    step = 8 << 20
    for start in range(lo, hi, step):
        size = min(step + len(nb), hi - start)
        chunk = ctypes.string_at(start, size)
        at = chunk.find(nb)
        while at >= 0:
            if start + at not in skip:
                hits.append(hex(start + at))
            at = chunk.find(nb, at + 1)
needle = nb.decode()
frames, f = [], sys._getframe().f_back
while f is not None:
    frames += [
        f.f_code.co_name + ':' + k
        for k, v in list(f.f_locals.items())
        if v is not globals() and needle in repr(v)
    ]
    f = f.f_back
print(len(hits), frames)
"""


def test_a_run_finds_nothing_of_earlier_runs_in_its_memory(runner: RunnerService) -> None:
    # A run's process is a copy of the process it was forked from. Spares are forked by
    # a zygote that never handles a request, so nothing of another learner's code, harness
    # or output is in a run's memory: not in its call stack, not in freed heap.
    secret = "qlsecret-of-learner-a-" + os.urandom(6).hex()
    a = runner.run_sync(f"mine = {secret!r}\nprint(mine)", harness=f"report({secret!r})")
    assert a.status == "ok" and a.stdout == secret + "\n" and a.report == secret, a
    xored = bytes(b ^ 0x5A for b in secret.encode())
    code = _SECRET_SEARCH.replace("NEEDLE_XORED", repr(xored))
    for _ in range(4):  # the spares of both slots, and those forked after run A
        r = runner.run_sync(code, limits=RunLimits(cpu_seconds=4, wall_seconds=8, memory_mb=256))
        assert r.status == "ok" and r.stdout == "0 []\n", r
