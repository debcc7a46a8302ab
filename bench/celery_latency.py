"""Run latency over HTTP: the in-process runner against the Celery runner, in one run.

Run: .venv/bin/python bench/celery_latency.py [rounds]

Starts a private redis-server on a free port (nothing on disk), one ``questlab worker`` with
the same number of slots as the in-process runner, and two real ``questlab serve`` processes
on loopback: "local" (QUESTLAB_RUNNER=local) and "celery" (QUESTLAB_RUNNER=celery). Requests
alternate between the two servers, round by round, so both see the same machine load, one
client at a time (the latency a learner sees, not throughput). Prints p50 and p95 in ms per
runner and the difference celery − local; the target is at most +5 ms at the p50.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: bench/ is on the path, the repository is not
from bench.grading_latency import _free_port, start_server  # noqa: E402

CODE = "import torch\nx = torch.randn(8, 16)\nprint(x.shape, (x @ x.T).shape)"
SLOTS = {"QUESTLAB_RUNNER_SLOTS": "2"}
"""The worker and the in-process runner get the same number of slots."""


def _client(base: str) -> tuple[httpx.Client, dict[str, str]]:
    client = httpx.Client(base_url=base, timeout=60)
    client.get("/")
    return client, {"X-CSRF-Token": client.cookies.get("questlab_csrf", "")}


def main(rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="questlab-bench-celery-"))
    redis_port = _free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            subprocess.Popen(
                [shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--save", ""],
                stdout=subprocess.DEVNULL,
            )
        )
        worker_log = (tmp / "worker.log").open("wb")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "questlab.cli", "worker"],
                env={**os.environ, "PYTHONPATH": str(ROOT), "QUESTLAB_REDIS_URL": redis_url, **SLOTS},
                cwd=tmp,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
            )
        )
        local, local_base = start_server(ROOT, tmp / "local", QUESTLAB_RUNNER="local", **SLOTS)
        procs.append(local)
        celery, celery_base = start_server(
            ROOT, tmp / "celery", QUESTLAB_RUNNER="celery", QUESTLAB_REDIS_URL=redis_url, **SLOTS
        )
        procs.append(celery)
        clients = {"local": _client(local_base), "celery": _client(celery_base)}
        times: dict[str, list[float]] = {name: [] for name in clients}
        for client, headers in clients.values():  # warm-up, not counted
            for _ in range(10):
                client.post("/api/run", json={"code": CODE}, headers=headers).raise_for_status()
        for _ in range(rounds):
            for name, (client, headers) in clients.items():
                started = time.perf_counter()
                r = client.post("/api/run", json={"code": CODE}, headers=headers)
                times[name].append((time.perf_counter() - started) * 1000)
                if r.status_code != 200 or r.json().get("status") != "ok":
                    raise SystemExit(f"{name}: {r.status_code} {r.text[:300]}")
        p = {}
        for name, values in times.items():
            values.sort()
            p[name] = (statistics.median(values), values[int(len(values) * 0.95) - 1])
            print(f"{name:7s} p50 {p[name][0]:7.1f} ms   p95 {p[name][1]:7.1f} ms   ({len(values)} runs)")
        print(
            f"celery − local: p50 {p['celery'][0] - p['local'][0]:+.1f} ms, "
            f"p95 {p['celery'][1] - p['local'][1]:+.1f} ms; "
            f"celery/local p50 ratio {p['celery'][0] / p['local'][0]:.2f} (target: at most +5 ms at the p50)"
        )
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()  # the worker and the servers stop their sandboxes on SIGTERM
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
