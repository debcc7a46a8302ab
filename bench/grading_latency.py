"""Grading latency: submit to results JSON for the nn.Module exercise, through the real app.

Run: PYTHONPATH=. .venv/bin/python bench/grading_latency.py [runs]
Prints p50/p90/max in ms for the solution and for a diagnosed mistake.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = ROOT / "quests" / "pytorch" / "01-networks" / "01-nn-module" / "exercise"
URL = "/api/quests/pytorch/networks/nn-module/submit"


async def main(runs: int) -> None:
    from questlab.db import upgrade
    from questlab.settings import Settings
    from questlab.web.app import create_app

    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    upgrade(url)
    app = create_app(
        Settings(
            data_dir=tmp,
            quests_dir=ROOT / "quests",
            database_url=url,
            runner_enabled=True,
            sandbox="auto",
            secret_key="bench",
        )
    )
    cases = {
        "solution": (EXERCISE / "solution.py").read_text(),
        "plain_list": (EXERCISE / "mistakes" / "layers-in-a-plain-list.py").read_text(),
    }
    async with app.router.lifespan_context(app):
        print(f"sandbox: {app.state.runner.sandbox_description}")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
            await http.get("/")
            headers = {"X-CSRF-Token": http.cookies.get("questlab_csrf")}
            for name, code in cases.items():
                for _ in range(3):  # warm-up
                    await http.post(URL, json={"code": code}, headers=headers)
                times = []
                for _ in range(runs):
                    started = time.perf_counter()
                    r = await http.post(URL, json={"code": code}, headers=headers)
                    times.append((time.perf_counter() - started) * 1000)
                    assert r.status_code == 200, r.text
                times.sort()
                p50 = statistics.median(times)
                print(
                    f"{name:11s} status={r.json()['status']:5s} n={runs} p50={p50:.1f} ms "
                    f"p90={times[int(len(times) * 0.9) - 1]:.1f} ms max={times[-1]:.1f} ms"
                )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
