"""Grading latency over HTTP, before and after, in one run: submit to results JSON for the nn.Module exercise.

Run: .venv/bin/python bench/grading_latency.py [rounds] [--before REV]

Starts two real ``questlab serve`` processes on loopback, each with the bubblewrap
sandbox when it works here: one from the current tree ("after") and one from
``REV`` ("before", default 54891c7: the same-process harness that grading v2
replaced), checked out into a temporary git worktree with its own quests. Requests
alternate between the two servers, round by round, so both see the same machine
load; each submission waits ``GAP_S`` after the previous one, as a learner would
(the "after" server makes the next seed's reference evidence in that time).
Prints p50 and p95 in ms per server and code, and the after/before ratio.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = ROOT / "quests" / "pytorch" / "02-networks" / "01-nn-module" / "exercise"
URL = "/api/quests/pytorch/networks/nn-module/submit"
#: Seconds between two submissions.
GAP_S = 0.4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tree: Path, data: Path, **extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """``questlab serve`` importing questlab and the quests from ``tree``, with run limits out of the
    way and ``extra`` settings (``QUESTLAB_...`` variables); returns (process, base URL) once Run
    works (``/-/health`` no longer says the runner is starting)."""
    data.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "QUESTLAB_DATA_DIR": str(data),
        "QUESTLAB_QUESTS_DIR": str(tree / "quests"),
        "QUESTLAB_RUN_RATE_PER_MINUTE": "100000",
        "QUESTLAB_RUN_RATE_PER_ADDRESS_PER_MINUTE": "100000",
        **extra,
    }
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "questlab.cli", "serve", "--port", str(port)],
        cwd=data,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            health = httpx.get(base + "/-/health", timeout=2)
            if health.status_code == 200 and health.json().get("runner") not in ("starting", None):
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"server from {tree} did not start:\n{(data / 'server.log').read_text()}")
        time.sleep(0.3)


def main(rounds: int, before_rev: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="questlab-bench-"))
    old_tree = tmp / "before"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old_tree), before_rev],
        check=True,
        capture_output=True,
    )
    servers = {}
    try:
        for name, tree in (("before", old_tree), ("after", ROOT)):
            (tmp / f"data-{name}").mkdir()
            servers[name] = start_server(tree, tmp / f"data-{name}")
        cases = {
            "solution": (EXERCISE / "solution.py").read_text(),
            "plain_list": (EXERCISE / "mistakes" / "layers-in-a-plain-list.py").read_text(),
        }
        clients = {}
        for name, (_, base) in servers.items():
            http = httpx.Client(base_url=base, timeout=60)
            http.get("/quests/pytorch/networks/nn-module/")  # the page warms the "after" bank
            clients[name] = (http, {"X-CSRF-Token": http.cookies["questlab_csrf"]})
        times: dict[tuple[str, str], list[float]] = {(s, c): [] for s in servers for c in cases}
        statuses: dict[tuple[str, str], str] = {}
        for round_no in range(rounds + 3):  # 3 warm-up rounds
            order = list(servers) if round_no % 2 == 0 else list(reversed(servers))
            for case, code in cases.items():
                for name in order:
                    http, headers = clients[name]
                    time.sleep(GAP_S)
                    started = time.perf_counter()
                    r = http.post(URL, json={"code": code, "locale": "en"}, headers=headers)
                    elapsed = (time.perf_counter() - started) * 1000
                    assert r.status_code == 200, r.text
                    statuses[(name, case)] = r.json()["status"]
                    if round_no >= 3:
                        times[(name, case)].append(elapsed)
        print(
            f"grading latency over HTTP, {rounds} rounds, {GAP_S} s between submissions, "
            f"load {os.getloadavg()[0]:.1f}"
        )
        for case in cases:
            row = {}
            for name in servers:
                t = sorted(times[(name, case)])
                row[name] = (statistics.median(t), t[max(0, int(len(t) * 0.95) - 1)])
                print(
                    f"  {case:10s} {name:6s} status={statuses[(name, case)]:4s} p50={row[name][0]:6.1f} ms "
                    f"p95={row[name][1]:6.1f} ms"
                )
            print(
                f"  {case:10s} after/before p50 {row['after'][0] / row['before'][0]:.2f}, "
                f"p95 {row['after'][1] / row['before'][1]:.2f}"
            )
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(20)
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_tree)], capture_output=True
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    rev = "54891c7"
    if "--before" in args:
        i = args.index("--before")
        rev = args[i + 1]
        del args[i : i + 2]
    main(int(args[0]) if args else 40, rev)
