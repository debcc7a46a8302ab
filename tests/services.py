"""Real services for tests: a private redis-server, a private PostgreSQL cluster, `questlab worker`
and `questlab serve` subprocesses.

A test that stops Redis or PostgreSQL stops its own server on its own port, never the machine's
shared one.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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


POSTGRES_BIN = Path(os.environ.get("QUESTLAB_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))


class PrivatePostgres:
    """A private PostgreSQL cluster (initdb into a temporary folder, its own port and socket folder)
    that a test may stop and start again, never the machine's shared server.

    initdb refuses to run as root: as root the cluster belongs to the ``postgres`` system user
    (``runuser -u postgres --``) in a temporary folder that user owns.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="questlab-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, tool: str, *args: str, timeout_s: float = 60) -> None:
        done = subprocess.run(
            [*self.prefix, str(POSTGRES_BIN / tool), *args], capture_output=True, text=True, timeout=timeout_s
        )
        assert done.returncode == 0, f"{tool} failed: {done.stdout}{done.stderr}"

    def init(self) -> None:
        """Create the cluster (superuser ``postgres``, trust authentication)."""
        assert (POSTGRES_BIN / "initdb").exists(), f"no PostgreSQL binaries in {POSTGRES_BIN}"
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start the server on 127.0.0.1:``port`` and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start"
        )

    def stop(self) -> None:
        """Stop the server at once (``-m fast``: sessions are ended, transactions rolled back)."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def create_database(self, name: str = "questlab") -> str:
        """Create database ``name``; return its SQLAlchemy URL (psycopg)."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def remove(self) -> None:
        """Stop the server if it runs and delete the cluster's folder."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self.prefix, str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)


class ServeProcess:
    """A ``questlab serve`` subprocess on a free loopback port, its log in ``<data>/server.log``.

    Args:
        data: its data folder (created) and working directory.
        env: its environment (``QUESTLAB_DATA_DIR`` is set to ``data``).
        port: the port; a free one when ``None`` (pass the old one to restart in its place).
    """

    def __init__(self, data: Path, env: dict[str, str], port: int | None = None) -> None:
        data.mkdir(parents=True, exist_ok=True)
        self.data, self.env = data, {**env, "QUESTLAB_DATA_DIR": str(data), "PYTHONPATH": str(REPO_DIR)}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout_s: float = 120) -> None:
        """Start it and wait until ``/-/health/ready`` answers 200."""
        import httpx

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "questlab.cli", "serve", "--port", str(self.port), "--no-migrate"],
            cwd=self.data,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + ready_timeout_s
        while True:
            try:
                if httpx.get(self.url + "/-/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None and time.monotonic() < deadline, self.log.read_text()[-4000:]
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 20 s."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
