"""Benchmark: running a small nn.Module snippet through ``POST /api/run``, against the usual ways.

Prints, from one run on this machine:
- p50/p95 latency through ``POST /api/run`` (sandboxed, fresh process per run),
  measured with the standard library's ``http.client`` on one keep-alive
  connection (the least client overhead Python has; the server is what is
  measured), and the same with ``httpx`` for reference;
- the same snippet as a cold ``python -c`` subprocess (imports torch every time);
- the same snippet on a pre-started Jupyter kernel with torch already imported;
- the ratios, and runs per second through the API with 1, 2 and 4 concurrent clients.

Goals (2-core machine): p50 < 25 ms, ≥ 60× faster than cold, faster than the
warm Jupyter kernel, ≥ 50 runs/s with 2 clients.

Run: .venv/bin/python bench/runner.py [--runs 60] [--cold-runs 5] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = """\
import torch
from torch import nn

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))

model = MLP()
print(model)
print(sum(p.numel() for p in model.parameters()))
print(model(torch.randn(2, 16)).shape)
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure_api(base: str, runs: int) -> list[float]:
    """Sequential latencies (ms) of ``POST /api/run`` over one ``http.client`` keep-alive connection."""
    token = httpx.get(base + "/").cookies["questlab_csrf"]
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {
        "Content-Type": "application/json",
        "X-CSRF-Token": token,
        "Cookie": f"questlab_csrf={token}",
    }
    payload = json.dumps({"code": SNIPPET})
    times = []
    try:
        for _ in range(runs + 5):
            start = time.perf_counter()
            conn.request("POST", "/api/run", body=payload, headers=headers)
            response = conn.getresponse()
            data = response.read()
            elapsed = (time.perf_counter() - start) * 1000
            body = json.loads(data)
            assert response.status == 200 and body["status"] == "ok", body
            times.append(elapsed)
    finally:
        conn.close()
    return times[5:]


def measure_api_httpx(base: str, runs: int) -> list[float]:
    """The same as :func:`measure_api` with an ``httpx.Client`` (more client overhead per request)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/")
        headers = {"X-CSRF-Token": client.cookies["questlab_csrf"]}
        times = []
        for _ in range(runs + 5):
            start = time.perf_counter()
            response = client.post("/api/run", json={"code": SNIPPET}, headers=headers)
            elapsed = (time.perf_counter() - start) * 1000
            body = response.json()
            assert body["status"] == "ok", body
            times.append(elapsed)
        return times[5:]


async def throughput(base: str, clients: int, seconds: float) -> float:
    count = 0
    deadline = time.perf_counter() + seconds

    async def client_loop() -> None:
        nonlocal count
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            await client.get("/")
            headers = {"X-CSRF-Token": client.cookies["questlab_csrf"]}
            while time.perf_counter() < deadline:
                response = await client.post("/api/run", json={"code": SNIPPET}, headers=headers)
                assert response.json()["status"] == "ok", response.text
                count += 1

    start = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return count / (time.perf_counter() - start)


def measure_cold(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", SNIPPET], check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure_jupyter(runs: int) -> list[float]:
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        client.execute_interactive("import torch\nfrom torch import nn\ntorch.set_num_threads(1)", timeout=60)
        times = []
        for _ in range(runs + 5):
            start = time.perf_counter()
            reply = client.execute_interactive(SNIPPET, timeout=30, output_hook=lambda msg: None)
            times.append((time.perf_counter() - start) * 1000)
            assert reply["content"]["status"] == "ok", reply["content"]
        return times[5:]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    port = free_port()
    data = tempfile.mkdtemp(prefix="questlab-bench-")
    env = dict(
        os.environ,
        QUESTLAB_DATA_DIR=data,
        QUESTLAB_RUN_RATE_PER_MINUTE="100000",
        QUESTLAB_RUN_RATE_PER_ADDRESS_PER_MINUTE="100000",
        QUESTLAB_RUNNER_QUEUE="64",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "questlab.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                health = httpx.get(base + "/-/health").json()
                if health["runner"] in ("sandboxed", "unsandboxed"):  # not "starting"
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("server did not start with its runner")
        print(f"runner: {health['runner']}")
        api = measure_api(base, args.runs)
        api_httpx = measure_api_httpx(base, args.runs)
        rates = {n: asyncio.run(throughput(base, n, args.seconds)) for n in (1, 2, 4)}
    finally:
        server.terminate()
        server.wait(timeout=15)
    cold = measure_cold(args.cold_runs)
    jupyter = measure_jupyter(args.runs)
    rows = [
        ("POST /api/run (sandboxed, fresh process)", api),
        ("  the same, httpx as the client", api_httpx),
        ("cold python -c subprocess", cold),
        ("warm Jupyter kernel (torch imported)", jupyter),
    ]
    for name, values in rows:
        print(f"{name:44s} p50 {statistics.median(values):8.1f} ms   p95 {percentile(values, 0.95):8.1f} ms")
    api_p50 = statistics.median(api)
    print(f"cold / api p50 ratio:    {statistics.median(cold) / api_p50:7.1f}x  (goal ≥ 60)")
    print(f"jupyter / api p50 ratio: {statistics.median(jupyter) / api_p50:7.2f}x  (goal > 1)")
    for clients, rate in rates.items():
        print(f"runs/s with {clients} client(s): {rate:6.1f}" + ("  (goal ≥ 50)" if clients == 2 else ""))
    print(
        f"goals: p50 < 25 ms {'met' if api_p50 < 25 else 'NOT met'}; 2-client ≥ 50/s "
        f"{'met' if rates[2] >= 50 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
