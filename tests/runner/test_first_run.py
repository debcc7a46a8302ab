"""What a newcomer meets on the first runs: clear sentences, a capped output, a CPU verdict
that holds on a loaded machine, and a sandbox that shows nothing of the host's paths."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import types

import pytest

from questlab.runner import RunLimits, RunnerService
from questlab.runner import sandbox as sb
from questlab.runner.limits import END_SENTENCES, end_message
from questlab.runner.warm import WarmParent

from .conftest import assert_healthy


def _host_paths() -> set[str]:
    """Host folders a run must not be told about: the checkout, the virtualenv, the interpreter's home."""
    paths = {sb.PACKAGE_ROOT, os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    return {p for p in paths if not p.startswith("/usr")}


def test_proc_1_cmdline_holds_no_configuration(runner: RunnerService) -> None:
    r = runner.run_sync("print(open('/proc/1/cmdline', 'rb').read().decode())")
    assert r.status == "ok", r
    assert "uid_base" not in r.stdout and "cgroup_root" not in r.stdout and "{" not in r.stdout
    if sb.overlay_available():
        assert not [p for p in _host_paths() if p in r.stdout], r.stdout


def test_a_run_sees_no_host_path(runner: RunnerService) -> None:
    """mountinfo, maps, sys.path, module files and the interpreter all name neutral paths."""
    if not sb.overlay_available():
        pytest.skip("overlayfs is not available here: the sandbox binds host paths (docs/runner.md)")
    code = (
        "import sys, torch, questlab, subprocess\n"
        "print(open('/proc/self/mountinfo').read())\n"
        "print(open('/proc/self/maps').read())\n"
        "print(sys.path, sys.prefix, sys.base_prefix, sys.executable, torch.__file__, questlab.__file__)\n"
        "print(subprocess.run([sys.executable, '-c', 'import numpy; print(numpy.__file__)'],"
        " capture_output=True, text=True).stdout)\n"
        "import importlib.metadata as m\n"
        "print(m.distribution('questlab').read_text('direct_url.json'))\n"
    )
    r = runner.run_sync(code, limits=RunLimits(output_bytes=1_000_000, wall_seconds=10))
    assert r.status == "ok", r
    assert not r.truncated
    leaked = [p for p in _host_paths() if p in r.stdout]
    assert leaked == [], r.stdout[-3000:]
    assert f"{sb.SANDBOX_VENV}/lib/python3.11/site-packages/numpy/__init__.py" in r.stdout
    assert_healthy(runner)


def test_sys_exit_says_the_exit_code(runner: RunnerService) -> None:
    r = runner.run_sync("import sys\nprint('bye')\nsys.exit(3)")
    assert (r.status, r.exit_code, r.stdout) == ("error", 3, "bye\n")
    assert r.message == "the program ended with exit code 3 (any code but 0 means it failed)"
    assert runner.run_sync("import os\nos._exit(5)").message == end_message("exit_code", 5)
    assert runner.run_sync("import sys\nsys.exit(0)").message is None
    # An uncaught exception says itself in its traceback; no extra sentence.
    assert runner.run_sync("1 / 0").message is None


def test_input_says_runs_have_no_keyboard(runner: RunnerService) -> None:
    r = runner.run_sync("name = input('name? ')\nprint(name)")
    assert r.status == "error" and "EOFError" in (r.traceback or "")
    assert r.message == END_SENTENCES["no_input"]
    # An EOFError of the learner's own is not blamed on the keyboard.
    assert runner.run_sync("raise EOFError('mine')").message is None
    # Caught: nothing to explain.
    assert runner.run_sync("try:\n    input()\nexcept EOFError:\n    print('none')").status == "ok"


@pytest.mark.parametrize(
    "code",
    [
        "import urllib.request\nurllib.request.urlopen('https://download.pytorch.org/models/x.pth')",
        "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=2)",
        "import socket\ntry:\n    socket.getaddrinfo('example.com', 80)\n"
        "except OSError as e:\n    raise RuntimeError('download failed') from e",
    ],
    ids=["urlopen", "connect", "wrapped"],
)
def test_a_network_attempt_says_runs_have_no_network(runner: RunnerService, code: str) -> None:
    r = runner.run_sync(code)
    assert r.status == "error", r
    assert r.message == END_SENTENCES["no_network"], r


def test_nul_bytes_are_capped_on_what_is_sent(runner: RunnerService) -> None:
    """Each NUL is sent as the four characters \\x00: the cap holds on those too."""
    r = runner.run_sync("import sys\nsys.stderr.buffer.write(b'\\0' * 100_000)")
    assert r.status == "output_limit" and r.truncated
    assert len(r.stderr.encode()) <= 64_000 and r.stderr.endswith("\\x00")
    code = "import sys\nsys.stdout.buffer.write(b'\\0' * 20_000)\nprint('end', file=sys.stderr)"
    small = runner.run_sync(code)
    assert small.status == "ok" and small.truncated  # 20 kB written, 80 kB spelled out
    assert len(small.stdout.encode()) + len(small.stderr.encode()) <= 64_000
    assert small.stderr == "end\n"  # the short stream is kept whole


def test_a_spin_loop_on_a_loaded_machine_is_stopped_by_the_cpu_limit(runner: RunnerService) -> None:
    """Beside three busy processes; before, the kernel's RLIMIT_CPU kill was called 'signal SIGKILL'."""
    load = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    try:
        for _ in range(2):
            r = runner.run_sync("while True:\n    pass\n", limits=RunLimits(cpu_seconds=2, wall_seconds=20))
            assert (r.status, r.message) == ("timeout", "stopped after 2 s of CPU time"), r
    finally:
        for process in load:
            process.kill()
            process.wait()
    assert_healthy(runner)


def _verdict(clock: float | None, cpu_ms: float, isolated: bool = True) -> bool:
    parent = types.SimpleNamespace(cfg={"isolated": isolated})
    run = types.SimpleNamespace(limits=RunLimits(cpu_seconds=5), rlimit_clock_s=clock, cg=object())
    return WarmParent.by_rlimit_cpu(parent, run, cpu_ms, cpu_ms / 1000)  # type: ignore[arg-type]


def test_a_sigkill_is_the_cpu_limit_by_the_kernels_own_clock() -> None:
    # Measured here under load: killed at 5.0 s of tick-sampled CPU with 4.8 s in the cgroup.
    assert _verdict(5.004, 4798)
    assert not _verdict(1.2, 1200)  # a SIGKILL from outside, early in a run
    assert not _verdict(4.2, 4900)  # the kernel's clock had not reached the limit
    assert _verdict(None, 4700)  # the clock could not be read: a margin on the cgroup's
    assert not _verdict(None, 3000)


def test_an_unsandboxed_start_warns_once_and_says_what_auto_chose(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sb, "probe_bwrap", lambda: "bwrap is not installed (Debian package 'bubblewrap')")
    caplog.set_level(logging.INFO, logger="questlab.runner")
    service = RunnerService(slots=1, sandbox="auto")
    try:
        assert service.run_sync("print(1)").stdout == "1\n"
        assert service.chosen == "none" and not service.sandboxed
    finally:
        service.close_sync()
    lines = [r.getMessage() for r in caplog.records if "SANDBOX" in r.getMessage()]
    assert len(lines) == 1, lines
    assert lines[0].count("NO SANDBOX") == 1 and "'auto'" in lines[0] and "not installed" in lines[0]


def test_a_sandboxed_start_says_what_auto_chose(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="questlab.runner")
    service = RunnerService(slots=1, sandbox="auto")
    try:
        service.run_sync("pass")
        assert service.chosen == "bwrap"
    finally:
        service.close_sync()
    chose = [r for r in caplog.records if "chose bubblewrap" in r.getMessage()]
    assert len(chose) == 1 and chose[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "SANDBOX" in r.getMessage()]
