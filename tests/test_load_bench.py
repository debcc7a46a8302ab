"""bench/load.py for real, briefly: a few simulated learners against its own server, in-process and
through two Celery workers, and the greedy-client scenario. Every action is answered without an error
and without a 500.

The load test runs in a subprocess: locust patches the standard library for gevent when imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from questlab.settings import REPO_DIR

pytestmark = pytest.mark.timeout(420)
ACTIONS = {"read lesson", "run", "submit", "sync", "comment"}


def _load(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "load.json"
    done = subprocess.run(
        [sys.executable, str(REPO_DIR / "bench" / "load.py"), *args, "--json", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "throughput" in done.stdout and "p95" in done.stdout, done.stdout
    return json.loads(out.read_text())


def _assert_clean_learners(summary: dict) -> None:
    measured = {name for name in summary["actions"] if not name.endswith("(ramp-up)")}
    assert ACTIONS <= measured, summary["actions"]
    assert summary["errors"] == 0 and summary["status_500"] == 0, summary
    assert summary["actions"]["signup (ramp-up)"]["errors"] == 0, summary
    assert summary["throughput_rps"] > 0
    for name in ACTIONS:
        action = summary["actions"][name]
        assert action["count"] >= 1 and 0 < action["p50"] <= action["p95"] <= action["p99"], (name, action)


def test_learners_and_a_greedy_client_in_process(tmp_path: Path) -> None:
    results = _load(
        tmp_path, "--users", "3", "--seconds", "6", "--think", "0.05,0.2", "--greedy-concurrency", "2"
    )
    assert results["runner"] == "in-process"
    (learners,) = results["learners"]
    assert learners["users"] == 3
    _assert_clean_learners(learners)
    (greedy,) = results["greedy"]
    for phase in ("alone", "beside"):
        calm = greedy[phase]["actions"]["calm run"]
        assert calm["count"] >= 1 and calm["errors"] == 0, greedy[phase]
        assert greedy[phase]["status_500"] == 0
        assert 0 < greedy[phase]["runner_ms"]["calm run"]["p50"] <= calm["p50"]
    beside = greedy["beside"]["actions"]
    assert beside["greedy run"]["count"] > beside["calm run"]["count"]
    assert greedy["ratio"] is not None and greedy["ratio"] > 0
    assert results["server_log_errors"] == []


def test_learners_through_two_celery_workers(tmp_path: Path) -> None:
    args = ["--users", "2", "--seconds", "6", "--think", "0.05,0.2", "--scenario", "learners"]
    results = _load(tmp_path, "--celery", *args)
    assert results["runner"] == "celery (2 workers)"
    (learners,) = results["learners"]
    _assert_clean_learners(learners)
    assert results["greedy"] == []
    assert results["server_log_errors"] == []


def test_bounded_in_users_and_time(tmp_path: Path) -> None:
    for args in (["--users", "0"], ["--users", "10000"], ["--seconds", "100000"], ["--think", "5,1"]):
        done = subprocess.run(
            [sys.executable, str(REPO_DIR / "bench" / "load.py"), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and "error" in done.stderr, (args, done.stderr)
