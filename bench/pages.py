"""Benchmark: the nn.Module lesson page against a static file of the same bytes, from one server.

Starts uvicorn (one worker, runner off) in a subprocess, saves the lesson's HTML
as a static file served by the same app, then loads both alternately with the
same concurrent client for the same time and prints requests per second of
each and their ratio. Goal: lesson ≥ 0.5 × static.

Run: .venv/bin/python bench/pages.py [--seconds 4] [--rounds 3] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
LESSON = "/quests/pytorch/networks/nn-module/"
STATIC_DIR = Path(os.environ.get("QUESTLAB_BENCH_STATIC", tempfile.gettempdir())) / "questlab-bench-static"


def make_app():  # type: ignore[no-untyped-def]
    """App factory for uvicorn: questlab plus ``/bench-static`` serving :data:`STATIC_DIR`."""
    from starlette.staticfiles import StaticFiles

    from questlab.settings import Settings
    from questlab.web.app import create_app

    app = create_app(Settings(runner_enabled=False))
    app.mount("/bench-static", StaticFiles(directory=STATIC_DIR), name="bench-static")
    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def load(url: str, seconds: float, concurrency: int) -> float:
    """Send GETs to ``url`` from ``concurrency`` keep-alive connections for ``seconds``; return requests/s."""
    count = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, headers={"Accept-Language": "ko"}) as client:

        async def worker() -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                response = await client.get(url)
                assert response.status_code == 200, response.status_code
                count += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    data = tempfile.mkdtemp(prefix="questlab-bench-")
    env = dict(
        os.environ,
        QUESTLAB_DATA_DIR=data,
        QUESTLAB_RUNNER_ENABLED="false",
        QUESTLAB_BENCH_STATIC=str(STATIC_DIR.parent),
    )
    subprocess.run(
        [sys.executable, "-m", "questlab.cli", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.pages:make_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                page = httpx.get(base + LESSON, headers={"Accept-Language": "ko"})
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        else:
            raise SystemExit("server did not start")
        (STATIC_DIR / "lesson.html").write_bytes(page.content)
        assert httpx.get(base + "/bench-static/lesson.html").content == page.content
        print(
            f"lesson page: {len(page.content)} bytes; {args.rounds} rounds of {args.seconds}s each, "
            f"{args.concurrency} connections"
        )
        lesson_rates, static_rates = [], []
        for round_number in range(args.rounds):
            lesson_rates.append(asyncio.run(load(base + LESSON, args.seconds, args.concurrency)))
            static_rates.append(
                asyncio.run(load(base + "/bench-static/lesson.html", args.seconds, args.concurrency))
            )
            print(
                f"round {round_number + 1}: lesson {lesson_rates[-1]:.0f} req/s, "
                f"static {static_rates[-1]:.0f} req/s"
            )
        lesson, static = max(lesson_rates), max(static_rates)
        ratio = lesson / static
        print(
            f"best: lesson {lesson:.0f} req/s, static {static:.0f} req/s, ratio {ratio:.2f} "
            f"(goal ≥ 0.50: {'met' if ratio >= 0.5 else 'NOT met'})"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
