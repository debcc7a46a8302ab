"""Latency and throughput of RunnerService on a small nn.Module snippet.

Usage: ``.venv/bin/python -m bench.runner_service [--sandbox bwrap] [--n 200]``

Prints p50/p95 latency through ``RunnerService.run`` (sequential), the same
snippet as a cold ``python -c`` subprocess and on a pre-started Jupyter kernel
(the same measurements as ``bench/runner.py``), and runs per second with 1, 2 and 4
concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bench.runner import SNIPPET, measure_cold, measure_jupyter, percentile
from questlab.runner import RunnerService


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
        f"RunnerService.run: p50 {p50:.1f} ms, p95 {percentile(lat, 0.95):.1f} ms "
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sandbox", default="auto")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--cold", type=int, default=5)
    args = ap.parse_args()
    ours = asyncio.run(bench_service(args.sandbox, args.n))
    cold = statistics.median(measure_cold(args.cold))
    jupyter = measure_jupyter(50)
    print(
        f"cold python -c: p50 {cold:.0f} ms; warm Jupyter kernel: p50 {statistics.median(jupyter):.1f} ms, "
        f"p95 {percentile(jupyter, 0.95):.1f} ms"
    )
    print(f"cold / runner: {cold / ours:.0f}x; jupyter / runner: {statistics.median(jupyter) / ours:.2f}x")


if __name__ == "__main__":
    main()
