"""Normal behaviour of the runner: output, tracebacks, images, modules, harness, queue."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from questlab.runner import (
    RESULT_VERSION,
    RunLimits,
    RunnerBusy,
    RunnerService,
    RunResult,
    SandboxUnavailable,
    _linux,
)
from questlab.runner import sandbox as sb
from questlab.runner.limits import LIMIT_HELP
from questlab.runner.result import make_inert
from questlab.runner.warm import OFF_PATH_NICE

from .conftest import assert_healthy, processes_left, spare_processes

MLP = """
import torch
from torch import nn

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))

model = MLP()
alias = model
print(sum(p.numel() for p in model.parameters()))
"""


def test_output_and_result_shape(runner: RunnerService) -> None:
    r = runner.run_sync("import sys\nprint('hello')\nprint('warn', file=sys.stderr)")
    assert (r.status, r.stdout, r.stderr, r.exit_code) == ("ok", "hello\n", "warn\n", 0)
    data = r.to_json()
    assert data["version"] == RESULT_VERSION
    assert set(data) == {
        "version",
        "status",
        "stdout",
        "stderr",
        "truncated",
        "exit_code",
        "duration_ms",
        "cpu_ms",
        "traceback",
        "message",
        "images",
        "modules",
        "report",
        "harness_error",
    }
    assert 0 < data["duration_ms"] < 5000 and data["cpu_ms"] >= 0
    assert RunResult.from_json(data) == r


def test_traceback_is_trimmed_to_learner_lines(runner: RunnerService) -> None:
    code = "import torch\n\ndef f(a):\n    return a @ torch.ones(3, 2)\n\nf(torch.ones(2, 2))\n"
    r = runner.run_sync(code)
    assert r.status == "error" and r.exit_code == 1
    assert r.traceback is not None
    files = re.findall(r'File "([^"]+)", line (\d+)', r.traceback)
    assert files == [("main.py", "6"), ("main.py", "4")]
    assert "return a @ torch.ones(3, 2)" in r.traceback
    assert r.traceback.rstrip().splitlines()[-1].startswith("RuntimeError: mat1 and mat2 shapes")
    assert "site-packages" not in r.traceback and "questlab" not in r.traceback
    assert r.traceback in r.stderr


def test_syntax_error(runner: RunnerService) -> None:
    r = runner.run_sync("x = 1\nprint(x +)\n")
    assert r.status == "error"
    assert r.traceback is not None and 'File "main.py", line 2' in r.traceback
    assert "SyntaxError" in r.traceback


def test_images_from_open_figures(runner: RunnerService) -> None:
    code = (
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\n"
        "plt.figure()\nplt.bar([1, 2], [3, 4])\n"
    )
    r = runner.run_sync(code)
    assert r.status == "ok", r
    assert [i["mime"] for i in r.images] == ["image/png", "image/png"]
    assert base64.b64decode(r.images[0]["data"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_module_tree(runner: RunnerService) -> None:
    r = runner.run_sync(MLP)
    assert r.status == "ok" and r.stdout == "235146\n"
    assert len(r.modules) == 1  # one object bound to two names
    tree = r.modules[0]
    assert (tree["name"], tree["class"], tree["params"], tree["trainable"]) == (
        "model",
        "MLP",
        235146,
        235146,
    )
    assert [c["name"] for c in tree["children"]] == ["fc1", "fc2", "fc3"]
    fc1 = tree["children"][0]
    assert fc1["class"] == "Linear" and fc1["params"] == 784 * 256 + 256
    assert fc1["parameters"] == [
        {"name": "weight", "shape": [256, 784], "numel": 200704},
        {"name": "bias", "shape": [256], "numel": 256},
    ]
    assert tree["parameters"] == []


def test_harness_reports_and_stays_out_of_learner_output(runner: RunnerService) -> None:
    harness = """
print('harness chatter')
model = learner_ns['model']
report({'count': sum(p.numel() for p in model.parameters()), 'printed': learner_stdout(),
        'exception': repr(learner_exception)})
"""
    r = runner.run_sync(MLP, harness=harness)
    assert r.status == "ok", r
    assert r.stdout == "235146\n"
    assert r.report == {"count": 235146, "printed": "235146\n", "exception": "None"}
    assert r.harness_error is None


def test_harness_runs_after_an_exception(runner: RunnerService) -> None:
    r = runner.run_sync(
        "x = 41\nraise ValueError('nope')", harness="report([learner_ns['x'], str(learner_exception)])"
    )
    assert r.status == "error"
    assert r.report == [41, "nope"]


def test_harness_errors_are_reported_apart(runner: RunnerService) -> None:
    r = runner.run_sync("print('fine')", harness="report({'a': object()})")
    assert r.status == "ok" and r.stdout == "fine\n"
    assert r.report is None
    assert r.harness_error and "TypeError" in r.harness_error


def test_each_run_is_reseeded(runner: RunnerService) -> None:
    code = "import torch, numpy, random\nprint(torch.rand(3).tolist(), numpy.random.rand(), random.random())"
    outs = {runner.run_sync(code).stdout for _ in range(4)}
    assert len(outs) == 4


def _nice_of(pid: int) -> int:
    """Niceness of ``pid`` from the host: field 19 of /proc/PID/stat (the name, field 2, may hold spaces)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _settled_spares(runner: RunnerService) -> list[int]:
    """The service's spares once the last run's processes are gone (one per slot), as host pids."""
    assert processes_left(runner) == []
    deadline = time.monotonic() + 5
    while len(pids := spare_processes(runner)) < runner.slots and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(pids) == runner.slots, pids
    return pids


def test_run_code_starts_at_the_servers_priority(runner: RunnerService) -> None:
    """Spares prepare at a low priority (warm.OFF_PATH_NICE); the code itself starts at the server's."""
    own = os.getpriority(os.PRIO_PROCESS, 0)
    code = (
        "import os, subprocess, sys\n"
        "print(os.getpriority(os.PRIO_PROCESS, 0))\n"
        "print(subprocess.run([sys.executable, '-c', 'import os; print(os.nice(0))'],"
        " capture_output=True, text=True).stdout.strip())\n"
        "try:\n    os.setpriority(os.PRIO_PROCESS, 0, -5)\nexcept PermissionError:\n    print('refused')\n"
    )
    for _ in range(3):  # each slot's spare in turn
        r = runner.run_sync(code)
        assert r.status == "ok", r
        assert r.stdout == f"{own}\n{own}\nrefused\n"


def test_spares_wait_at_low_priority(runner: RunnerService) -> None:
    """Work no request waits for yet runs at OFF_PATH_NICE (with CAP_SYS_NICE): here, the spares."""
    lowered = _linux.holds_capability(sb.OPTIONAL_CAPABILITIES["CAP_SYS_NICE"])
    runner.run_sync("pass")
    runner.run_sync("pass")
    pids = _settled_spares(runner)
    expected = OFF_PATH_NICE if lowered else os.getpriority(os.PRIO_PROCESS, 0)
    assert [_nice_of(pid) for pid in pids] == [expected] * runner.slots


def test_a_spare_that_died_before_its_run_is_replaced(runner: RunnerService) -> None:
    """A spare killed while it waits is not handed code: the run gets a fresh one, at once."""
    runner.run_sync("pass")
    runner.run_sync("pass")
    for pid in _settled_spares(runner):
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)  # the zygote reports their ends before the next requests come
    for _ in range(runner.slots):
        started = time.monotonic()
        r = runner.run_sync("print('fresh')")
        assert (r.status, r.stdout) == ("ok", "fresh\n"), r
        assert time.monotonic() - started < 2.5
    assert_healthy(runner)


_CAPS_SCRIPT = """
import sys
from pathlib import Path
from questlab.runner import RunLimits, RunnerService, _linux
if sys.argv[1] == "ask-for-more":  # as an unchecked --cap-add of a missing capability did
    _linux.holds_capability = lambda cap: True
svc = RunnerService(slots=1, queue_size=4, limits=RunLimits(), sandbox="bwrap")
code = "import os\\nprint(os.getpriority(os.PRIO_PROCESS, 0))\\n"
code += "print(open('/proc/self/status').read().split('CapInh:')[1].split()[0])"
r = svc.run_sync(code)
def ancestors(pid):
    while pid > 1:
        pid = int(Path(f"/proc/{pid}/status").read_text().split("PPid:")[1].split()[0])
        yield pid
masks = set()
for p in Path("/proc").iterdir():
    try:
        cmd = (p / "cmdline").read_bytes()
        if p.name.isdigit() and b"questlab.runner.warm" in cmd and b"bwrap" not in cmd:
            status = (p / "status").read_text()
            mine = svc._parent.proc.pid in ancestors(int(p.name))
            if mine and status.split("Uid:")[1].split()[0] == "0":  # the warm parent, the zygote
                masks.add(status.split("CapEff:")[1].split()[0])
    except OSError:
        pass
print(r.status, svc.sandboxed, " ".join(r.stdout.split()), sorted(masks))
svc.close_sync()
"""


@pytest.mark.parametrize(
    ("missing", "mode", "expected"),
    [
        ("sys_nice", "honest", set(sb.PARENT_CAPABILITIES)),
        ("sys_nice", "ask-for-more", set(sb.PARENT_CAPABILITIES)),
        ("sys_ptrace", "honest", {*sb.PARENT_CAPABILITIES, "CAP_SYS_NICE"} - {"CAP_SYS_PTRACE"}),
    ],
)
def test_server_missing_a_capability(missing: str, mode: str, expected: set[str], tmp_path: Path) -> None:
    """A host root without a capability (a container): still sandboxed, runs at the server's niceness.

    bubblewrap asked to add a capability its caller lacks keeps every
    capability of the caller instead of failing; "ask-for-more" asks for
    CAP_SYS_NICE anyway. The warm parent must give up all it did not ask for,
    lower nothing without CAP_SYS_NICE, answer runs untraced without
    CAP_SYS_PTRACE, and leave runs no inheritable capability.
    """
    script = tmp_path / "caps.py"
    script.write_text(_CAPS_SCRIPT)
    out = subprocess.run(
        ["setpriv", "--bounding-set", f"-{missing}", sys.executable, str(script), mode],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": sb.PACKAGE_ROOT},  # the tree under test
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    numbers = {**sb.PARENT_CAPABILITIES, **sb.OPTIONAL_CAPABILITIES}
    mask = sum(1 << numbers[name] for name in expected)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert out.stdout.strip() == f"ok True {own} {0:016x} ['{mask:016x}']", out.stdout


def test_globals_do_not_survive(runner: RunnerService) -> None:
    runner.run_sync("import torch\ntorch.secret_from_last_run = 1\nleft = 2")
    r = runner.run_sync("import torch\nprint(hasattr(torch, 'secret_from_last_run'), 'left' in globals())")
    assert r.stdout == "False False\n"


def test_one_thread_per_run(runner: RunnerService) -> None:
    r = runner.run_sync("import torch, os\nprint(torch.get_num_threads(), os.environ['OMP_NUM_THREADS'])")
    assert r.stdout == "1 1\n"


def test_file_size_limit(runner: RunnerService) -> None:
    r = runner.run_sync("open('big', 'wb').write(b'x' * 3_000_000)", limits=RunLimits(file_size_mb=1))
    assert r.status == "error" and "File too large" in (r.traceback or "")


def test_busy_when_slots_and_queue_are_full(runner: RunnerService) -> None:
    async def scenario() -> tuple[list[RunResult], RunnerBusy]:
        service = RunnerService(slots=1, queue_size=1, sandbox="bwrap")
        await service.start()
        try:
            slow = [asyncio.create_task(service.run("import time\ntime.sleep(0.5)")) for _ in range(2)]
            await asyncio.sleep(0.1)
            with pytest.raises(RunnerBusy) as busy:
                await service.run("print(1)")
            return list(await asyncio.gather(*slow)), busy.value
        finally:
            await service.close()

    results, busy = asyncio.run(scenario())
    assert [r.status for r in results] == ["ok", "ok"]
    assert busy.retry_after_s >= 1
    assert RunResult.busy(busy.retry_after_s).status == "busy"
    assert_healthy(runner)


def test_unsandboxed_mode_warns_and_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="questlab.runner")
    service = RunnerService(slots=1, sandbox="none")
    try:
        r = service.run_sync("import torch\nprint(torch.ones(2).sum().item())")
        assert r.status == "ok" and r.stdout == "2.0\n"
        assert not service.sandboxed and service.sandbox_description.startswith("NO SANDBOX")
        assert caplog.text.count("NO SANDBOX") == 1  # one warning, said once
        t = service.run_sync("import time\ntime.sleep(5)", limits=RunLimits(wall_seconds=0.5))
        assert t.status == "timeout"
    finally:
        service.close_sync()


def test_bwrap_mode_refuses_when_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sb, "probe_bwrap", lambda: "bwrap is not installed (test)")
    monkeypatch.setattr("questlab.runner.service.sb.probe_bwrap", lambda: "bwrap is not installed (test)")
    with pytest.raises(SandboxUnavailable, match="not installed"):
        asyncio.run(RunnerService(sandbox="bwrap").start())


def test_limits_validation_and_messages() -> None:
    with pytest.raises(ValueError, match="memory_mb"):
        RunLimits(memory_mb=0).validate()
    assert RunLimits.from_json(RunLimits().to_json()) == RunLimits()


def test_make_inert() -> None:
    assert make_inert(b"a\x1b[31mb\xff\tc\r\n") == "a\\x1b[31mb\ufffd\tc\r\n"
    assert make_inert("\u202eevil") == "\\u202eevil"


def test_every_limit_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "runner.md").read_text()
    for name in LIMIT_HELP:
        default = getattr(RunLimits(), name)
        assert re.search(rf"`{name}`\s*\|\s*{default:g}", doc), f"docs/runner.md lacks a row for {name}"


def test_open_files_limit(runner: RunnerService) -> None:
    code = "fs = [open('/dev/null') for _ in range(100)]\nprint(len(fs))"
    r = runner.run_sync(code, limits=RunLimits(open_files=50))
    assert r.status == "error" and "Too many open files" in (r.traceback or "")


def test_scratch_size_per_run(runner: RunnerService) -> None:
    code = "with open('/tmp/f', 'wb') as f:\n    for _ in range(12):\n        f.write(b'x' * 1_000_000)"
    small = runner.run_sync(code, limits=RunLimits(scratch_mb=8))
    assert small.status == "error" and "No space left on device" in (small.traceback or "")
    assert runner.run_sync(code).status == "ok"


def test_only_its_own_descriptors_are_open(runner: RunnerService) -> None:
    r = runner.run_sync("import os\nprint(sorted(int(f) for f in os.listdir('/proc/self/fd')))")
    assert r.status == "ok"
    fds = eval(r.stdout)
    assert set(fds) - {0, 1, 2, 3} == {max(fds)}  # the listing's own descriptor


def test_signal_not_explained_by_a_limit_is_killed(runner: RunnerService) -> None:
    # A fault is delivered even to the init of a PID namespace.
    r = runner.run_sync("import ctypes\nctypes.string_at(0)")
    assert r.status == "killed" and r.message == "stopped by signal SIGSEGV", r
    assert r.exit_code is None


def test_learner_classes_pickle_as_in_a_script(runner: RunnerService) -> None:
    """Learner code runs in a real ``__main__`` module, so torch.save of a whole custom model works."""
    code = (
        "import io, pickle, torch\nfrom torch import nn\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(2, 1)\n"
        "buffer = io.BytesIO()\ntorch.save(Net(), buffer)\nbuffer.seek(0)\n"
        "print(type(torch.load(buffer, weights_only=False)).__name__, __name__)\n"
        "class Point:\n    pass\nprint(type(pickle.loads(pickle.dumps(Point()))).__name__)\n"
    )
    result = runner.run_sync(code)
    assert result.status == "ok", result
    assert result.stdout == "Net __main__\nPoint\n"


_RLIMITS = (
    "import resource\n"
    "names = ('CPU', 'NOFILE', 'NPROC', 'FSIZE')\n"
    "print(*(resource.getrlimit(getattr(resource, 'RLIMIT_' + n)) for n in names))"
)


def test_limits_above_the_spare_get_a_fresh_spare(runner: RunnerService) -> None:
    # Spares apply the service's limits (FAST: 2 s of CPU) and drop their rights before
    # their code arrives; a run asking for more gets a spare prepared for it, and the
    # next run is back to the service's limits.
    more = runner.run_sync(_RLIMITS, limits=RunLimits(cpu_seconds=4, open_files=300, wall_seconds=5))
    assert more.status == "ok", more
    assert more.stdout.startswith("(4, 4) (300, 300) (64, 64) (16777216, 16777216)"), more.stdout
    less = runner.run_sync(_RLIMITS, limits=RunLimits(cpu_seconds=1, open_files=40, processes=32))
    assert less.status == "ok", less
    assert less.stdout.startswith("(1, 1) (40, 40) (32, 32) (16777216, 16777216)"), less.stdout
    default = runner.run_sync(_RLIMITS)
    assert default.stdout.startswith("(2, 2) (256, 256) (64, 64) (16777216, 16777216)"), default.stdout
    assert_healthy(runner)


def test_signals_reach_the_learners_handlers(runner: RunnerService) -> None:
    # The parent traces each run's PID 1 (to read its exit status before its memory is
    # freed); signals still arrive as they would untraced, and a stop signal sent to
    # itself is ignored as by any init, rather than freezing the run.
    code = """
import os, signal, time
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append('usr1'))
signal.signal(signal.SIGALRM, lambda s, f: got.append('alrm'))
os.kill(os.getpid(), signal.SIGUSR1)
signal.setitimer(signal.ITIMER_REAL, 0.05)
time.sleep(0.3)
os.kill(os.getpid(), signal.SIGSTOP)
os.kill(os.getpid(), signal.SIGTERM)
print(got)
"""
    r = runner.run_sync(code)
    assert r.status == "ok" and r.stdout == "['usr1', 'alrm']\n", r
    assert_healthy(runner)


def test_everything_written_before_the_exit_arrives(runner: RunnerService) -> None:
    # The answer is taken at the exit stop, before the pipes close: what PID 1 wrote
    # must be read to the end first.
    code = (
        "import os, sys\n"
        "sys.stdout.write('x' * 60000 + '\\n')\n"
        "sys.stdout.flush()\n"
        "sys.stderr.write('e' * 3000)\n"
        "sys.stderr.flush()\n"
        "os._exit(7)\n"
    )
    for _ in range(5):
        r = runner.run_sync(code)
        assert r.status == "error" and r.exit_code == 7, r
        assert r.stdout == "x" * 60000 + "\n" and r.stderr == "e" * 3000 and not r.truncated


def test_the_runs_other_processes_end_with_it(runner: RunnerService) -> None:
    # A child process still busy when PID 1 exits is killed with the run, at once.
    code = """
import subprocess, sys
p = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
print(p.pid > 1)
"""
    r = runner.run_sync(code)
    assert r.status == "ok" and r.stdout == "True\n", r
    assert_healthy(runner)


def test_every_after_fork_hook_of_the_warm_parent_is_accounted_for() -> None:
    # Spares are forked without Python's after-fork hooks (_linux.fork_bare); each hook a
    # module of the warm parent registers must be listed in child.AT_FORK_HOOKS with the
    # reason it is not needed, so a new dependency with a hook cannot slip in unnoticed.
    import subprocess
    import sys

    script = """
import re, sys
from questlab.runner import warm
warm._warm_up()
found = set()
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None) or ""
    if not path.endswith(".py") or name.startswith("questlab"):
        continue
    try:
        source = open(path, encoding="utf-8").read()
    except OSError:
        continue
    if re.search(r"os\\.register_at_fork\\(", source):
        found.add(name)
print(sorted(found))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    from questlab.runner.child import AT_FORK_HOOKS

    assert eval(out.stdout) == sorted(AT_FORK_HOOKS), out.stdout


def test_a_burst_from_one_owner_does_not_starve_another() -> None:
    """Waiting runs are served round-robin across owners (client addresses), first-come within one."""

    async def scenario() -> list[str]:
        service = RunnerService(slots=1, queue_size=64, sandbox="bwrap", max_wait_s=30)
        await service.start()
        done: list[str] = []
        try:

            async def run(owner: str, label: str) -> None:
                result = await service.run("import time\ntime.sleep(0.05)", owner=owner)
                assert result.status == "ok", result
                done.append(label)

            greedy = [asyncio.create_task(run("10.0.0.1", f"greedy{i}")) for i in range(8)]
            await asyncio.sleep(0.02)  # the greedy burst is queued first
            calm = asyncio.create_task(run("10.0.0.2", "calm"))
            await asyncio.gather(*greedy, calm)
        finally:
            await service.close()
        return done

    done = asyncio.run(scenario())
    # The calm owner's run waits for at most the run in progress and one greedy turn.
    assert done.index("calm") <= 2, done
    assert [d for d in done if d != "calm"] == [f"greedy{i}" for i in range(8)]  # FIFO within one


def test_runs_wait_while_the_expected_wait_is_short_and_are_refused_beyond_it() -> None:
    async def scenario() -> tuple[list[str], RunnerBusy]:
        service = RunnerService(slots=1, queue_size=1000, sandbox="bwrap", max_wait_s=1.0)
        await service.start()
        try:
            service._recent_ms.extend([200.0] * 5)  # typical run: 0.2 s (the estimate's input)
            tasks = [asyncio.create_task(service.run("import time\ntime.sleep(0.5)")) for _ in range(6)]
            await asyncio.sleep(0.05)
            # One runs, five wait (the fifth expected to wait 5 × 0.2 = 1.0 s, allowed); a sixth
            # waiter would wait 1.2 s: refused, with that wait as the retry time.
            assert service.queue_depth == 5
            with pytest.raises(RunnerBusy) as busy:
                await service.run("print(1)")
            return [r.status for r in await asyncio.gather(*tasks)], busy.value
        finally:
            await service.close()

    statuses, busy = asyncio.run(scenario())
    assert statuses == ["ok"] * 6  # queued and served, not refused
    assert busy.retry_after_s >= 1
