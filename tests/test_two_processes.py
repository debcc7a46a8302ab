"""Stateless web processes: one learner's requests alternate between two `questlab serve`
processes sharing the real PostgreSQL of this machine, one Redis and one runner worker.

Sign in on one, run and submit on the other; progress is the same on both; the run rate
limit counts the learner once across both processes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from questlab.db import upgrade
from questlab.settings import REPO_DIR
from tests.conftest import _postgres_database
from tests.services import RedisServer, ServeProcess, WorkerProcess

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]
EXERCISE = REPO_DIR / "quests" / "pytorch" / "02-networks" / "01-nn-module" / "exercise"
SUBMIT = "/api/quests/pytorch/networks/nn-module/submit"
RUNS_PER_MINUTE = 6


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    redis_server = RedisServer()
    redis_server.start()
    servers: list[ServeProcess] = []
    worker = None
    try:
        for url in _postgres_database():
            upgrade(url)
            env = {
                **os.environ,
                "QUESTLAB_DATABASE_URL": url,
                "QUESTLAB_SECRET_KEY": "shared-by-both-processes",
                "QUESTLAB_RUNNER": "celery",
                "QUESTLAB_REDIS_URL": redis_server.url,
                "QUESTLAB_RATE_LIMIT_STORE": "redis",
                "QUESTLAB_RUN_RATE_PER_MINUTE": str(RUNS_PER_MINUTE),
            }
            worker = WorkerProcess(redis_server.url, tmp_path / "worker.log")
            worker.wait_ready()
            for name in ("a", "b"):
                server = ServeProcess(tmp_path / name, env)
                servers.append(server)
                server.start()
            yield servers[0].url, servers[1].url
    finally:
        for server in servers:
            server.stop()
        if worker is not None:
            worker.stop()
        redis_server.stop()


def test_one_learner_across_two_processes(two_servers: tuple[str, str]) -> None:
    a_url, b_url = two_servers
    a = httpx.Client(base_url=a_url, timeout=60)
    b = httpx.Client(base_url=b_url, timeout=60)
    a.get("/")
    token = a.cookies["questlab_csrf"]
    headers = {"X-CSRF-Token": token}
    signed_up = a.post(
        "/api/auth/signup", json={"email": "two@example.com", "password": "correct horse"}, headers=headers
    )
    assert signed_up.status_code == 201, signed_up.text
    # The same browser talks to the other process next: its cookies (session, CSRF) hold there.
    b.cookies.update(a.cookies)
    assert b.get("/api/me/progress").json()["quests"]["pytorch"]["xp"] == 0
    b.get("/quests/pytorch/networks/nn-module/")  # the lesson view warms B's grading bank
    run = b.post("/api/run", json={"code": "print('on b')"}, headers=headers)
    assert run.status_code == 200 and run.json()["stdout"] == "on b\n", run.text
    solution = (EXERCISE / "solution.py").read_text()
    graded = b.post(SUBMIT, json={"code": solution, "locale": "en"}, headers=headers)
    assert graded.status_code == 200 and graded.json()["status"] == "pass", graded.text
    xp = graded.json()["xp_awarded"]
    assert xp > 0
    on_a = a.get("/api/me/progress").json()["quests"]["pytorch"]
    on_b = b.get("/api/me/progress").json()["quests"]["pytorch"]
    assert on_a == on_b and on_a["xp"] >= xp
    # Two runs counted so far (the run on B and the submission on B); the rest alternate.
    answers = []
    for i in range(RUNS_PER_MINUTE):
        client = a if i % 2 == 0 else b
        answers.append(client.post("/api/run", json={"code": "print(1)"}, headers=headers).status_code)
    assert answers[: RUNS_PER_MINUTE - 2] == [200] * (RUNS_PER_MINUTE - 2), answers
    assert answers[RUNS_PER_MINUTE - 2 :] == [429, 429], answers
    refused = a.post("/api/run", json={"code": "print(1)"}, headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
