"""Real services for tests: a private redis-server and `questlab worker` subprocesses.

A test that stops Redis stops its own server on its own port, never the machine's shared one.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

from questlab.runner.remote import HEARTBEAT_PREFIX
from questlab.settings import REPO_DIR

QUESTLAB = str(Path(sys.executable).with_name("questlab"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A private redis-server (nothing on disk) that a test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is installed by scripts/system-packages"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


class WorkerProcess:
    """A `questlab worker` subprocess with its log in a file."""

    def __init__(self, redis_url: str, log: Path, broker_url: str | None = None, *args: str) -> None:
        env = {**os.environ, "QUESTLAB_REDIS_URL": redis_url, "PYTHONPATH": str(REPO_DIR)}
        if broker_url:
            env["QUESTLAB_BROKER_URL"] = broker_url
        self.log = log
        self.proc = subprocess.Popen(
            [QUESTLAB, "worker", "--slots", "1", *args],
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.redis = redis.Redis.from_url(redis_url)

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            if (
                any(
                    int(k.rsplit(b"-", 1)[1]) == self.proc.pid
                    for k in self.redis.keys(HEARTBEAT_PREFIX + "*")
                    if k.rsplit(b"-", 1)[1].isdigit()
                )
                and b"ready." in self.log.read_bytes()
            ):
                return
            time.sleep(0.2)
        raise AssertionError(f"the worker did not come up:\n{self.log.read_text()}")

    def logged(self, text: str, timeout_s: float = 10) -> bool:
        """Whether ``text`` appears in the worker's log within ``timeout_s`` seconds."""
        deadline = time.monotonic() + timeout_s
        while text not in self.log.read_text():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
