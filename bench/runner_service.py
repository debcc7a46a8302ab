"""Latency and throughput of RunnerService on a small nn.Module snippet.

Usage: ``PYTHONPATH=. python bench/runner_service.py [--sandbox bwrap] [--n 200]``

Prints p50/p95 latency through ``RunnerService.run`` (sequential), the same
snippet as a cold ``python -c`` subprocess and on a pre-started Jupyter kernel
(when jupyter_client is installed), and runs per second with 1, 2 and 4
concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

from questlab.runner import RunnerService

SNIPPET = """import torch
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


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def bench_service(sandbox: str, n: int) -> float:
    service = RunnerService(slots=2, queue_size=64, sandbox=sandbox)
    t = time.perf_counter()
    await service.start()
    print(f"start: {time.perf_counter() - t:.2f} s; {service.sandbox_description}")
    for _ in range(10):
        await service.run(SNIPPET)
    lat, dur = [], []
    for _ in range(n):
        t = time.perf_counter()
        r = await service.run(SNIPPET)
        lat.append((time.perf_counter() - t) * 1000)
        dur.append(r.duration_ms)
        assert r.status == "ok", r
    p50 = statistics.median(lat)
    print(
        f"RunnerService.run: p50 {p50:.1f} ms, p95 {pct(lat, 0.95):.1f} ms "
        f"(child's own duration p50 {statistics.median(dur):.1f} ms)"
    )
    for clients in (1, 2, 4):
        done = 0
        stop = time.perf_counter() + 5

        async def client(stop: float = stop) -> None:
            nonlocal done
            while time.perf_counter() < stop:
                r = await service.run(SNIPPET)
                assert r.status == "ok", r
                done += 1

        t = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        print(f"{clients} client(s): {done / (time.perf_counter() - t):.1f} runs/s")
    await service.close()
    return p50


def bench_cold(n: int) -> float:
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", SNIPPET], check=True, capture_output=True)
        lat.append((time.perf_counter() - t) * 1000)
    p50 = statistics.median(lat)
    print(f"cold python -c: p50 {p50:.0f} ms (n={n})")
    return p50


def bench_jupyter(n: int) -> float | None:
    try:
        from jupyter_client.manager import start_new_kernel
    except ImportError:
        print("jupyter_client not installed; skipping the kernel anchor")
        return None
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive("import torch; from torch import nn", timeout=60, output_hook=lambda m: None)
        lat = []
        for _ in range(n):
            t = time.perf_counter()
            kc.execute_interactive(SNIPPET, timeout=30, output_hook=lambda m: None)
            lat.append((time.perf_counter() - t) * 1000)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    p50 = statistics.median(lat)
    print(f"warm Jupyter kernel: p50 {p50:.1f} ms, p95 {pct(lat, 0.95):.1f} ms")
    return p50


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sandbox", default="auto")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--cold", type=int, default=5)
    args = ap.parse_args()
    ours = asyncio.run(bench_service(args.sandbox, args.n))
    cold = bench_cold(args.cold)
    jup = bench_jupyter(50)
    print(f"cold / runner: {cold / ours:.0f}x" + (f"; jupyter / runner: {jup / ours:.2f}x" if jup else ""))


if __name__ == "__main__":
    main()
