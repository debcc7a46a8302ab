"""One learner writing progress from several places at once: parallel syncs through live servers, and
parallel lesson completions and exercise passes, on SQLite and the real PostgreSQL. No request may fail
and every XP is counted exactly once."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from questlab.accounts import service
from questlab.content.loader import load_catalog
from questlab.db import Database
from questlab.db.models import User
from questlab.progress import store
from questlab.progress.engine import evaluate
from questlab.progress.exercises import award_submission
from questlab.progress.tokens import sign_exercise_pass
from questlab.settings import Settings

SECRET = "test-secret"
PARALLEL = 8
SERVERS = 4
ROUNDS = 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_servers(settings: Settings, database_url: str) -> Iterator[list[str]]:
    """:data:`SERVERS` uvicorn servers, each with its own app and engine, all on one database (as
    several web processes behind a load balancer); yields their base URLs."""
    import uvicorn

    from questlab.web.app import create_app

    servers, threads, urls = [], [], []
    for index in range(SERVERS):
        port = _free_port()
        app = create_app(settings.model_copy(update={"database_url": database_url}))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        thread = threading.Thread(target=server.run, name=f"live-server-{index}", daemon=True)
        thread.start()
        servers.append(server)
        threads.append(thread)
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while not all(server.started for server in servers):
        if time.monotonic() > deadline or not all(thread.is_alive() for thread in threads):
            raise RuntimeError("a live server did not start")
        time.sleep(0.05)
    try:
        yield urls
    finally:
        for server in servers:
            server.should_exit = True
        for thread in threads:
            thread.join(timeout=10)


@pytest.fixture
def quest(quest_root: Path):
    return load_catalog(quest_root).quests["test"]


def _signed_in_cookies(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base) as http:
        http.get("/")
        response = http.post(
            "/api/auth/signup",
            json={"email": "racer@example.com", "password": "correct horse"},
            headers={"X-CSRF-Token": http.cookies["questlab_csrf"]},
        )
        assert response.status_code == 201, response.text
        return http.cookies


def test_parallel_syncs_of_one_learner(live_servers: list[str], database_url: str, quest):
    """Rounds of parallel syncs, each with the same lessons, the round's exercise tokens and its own code run
    count: all answer 200, lessons and passes count once, the run counter keeps the largest count sent."""
    cookies = _signed_in_cookies(live_servers[0])
    now = datetime.now(UTC)
    day = now.date().isoformat()
    sent_tokens: list[str] = []

    def payload(tokens: list[str], runs: int) -> dict:
        return {
            "device": "laptop",
            "quests": {
                "test": {
                    "lessons_completed": ["basics/first", "basics/second"],
                    "lesson_days": {"basics/first": day, "basics/second": day},
                    "exercise_tokens": tokens,
                    "code_runs": {day: runs},
                    "active_days": [day],
                }
            },
        }

    def sync(job: tuple[int, list[str], int, threading.Barrier]) -> httpx.Response:
        index, tokens, runs, barrier = job
        base = live_servers[index % len(live_servers)]
        with httpx.Client(base_url=base, cookies=cookies, timeout=60) as http:
            headers = {"X-CSRF-Token": cookies["questlab_csrf"]}
            barrier.wait()
            return http.post("/api/progress/sync", json=payload(tokens, runs), headers=headers)

    for round_ in range(ROUNDS):
        tokens = [sign_exercise_pass(SECRET, "test", "basics/first", first, now) for first in (True, False)]
        sent_tokens += tokens
        barrier = threading.Barrier(PARALLEL)
        jobs = [(i, tokens, round_ * PARALLEL + i + 1, barrier) for i in range(PARALLEL)]
        with ThreadPoolExecutor(PARALLEL) as pool:
            responses = list(pool.map(sync, jobs))
        assert [r.status_code for r in responses] == [200] * PARALLEL, [r.text for r in responses]
        assert all(r.json()["rejected"] == {} for r in responses)

    most = ROUNDS * PARALLEL
    union = store.SyncPayload.model_validate(payload(sent_tokens, most))
    expected = store.evaluate_payload(union, {"test": quest}, SECRET)["test"]
    with _database(database_url) as session:
        user = session.query(User).filter_by(email="racer@example.com").one()
        facts = store.load_facts(session, user.id, "test")
        scored = store.progress(session, user, quest)
    assert facts[("code_runs", f"laptop:{day}")].count == most
    assert sum(1 for kind, _ in facts if kind == "exercise") == len(sent_tokens)
    assert scored.xp == expected.xp
    assert scored.lessons_completed == ["basics/first", "basics/second"]
    assert scored.exercises_passed == ["basics/first"] and scored.first_try_passes == ["basics/first"]


@contextmanager
def _database(url: str) -> Iterator[Session]:
    db = Database(url)
    try:
        with db.session() as session:
            yield session
    finally:
        db.dispose()


def _in_parallel(url: str, work: Callable[[Session, int], object]) -> list[object]:
    """Run ``work(session, user_id)`` :data:`PARALLEL` times at once, each in its own transaction, for one
    new learner (released together by a barrier); return the results and the learner's id last."""
    db = Database(url)
    try:
        with db.session() as session:
            user_id = service.create_user(session, "racer@example.com", "longenough").id
        barrier = threading.Barrier(PARALLEL)

        def one(_index: int) -> object:
            barrier.wait()
            with db.session() as session:
                return work(session, user_id)

        with ThreadPoolExecutor(PARALLEL) as pool:
            return [*pool.map(one, range(PARALLEL)), user_id]
    finally:
        db.dispose()


def test_parallel_lesson_completions_award_xp_once(database_url: str, quest):
    *awarded, user_id = _in_parallel(
        database_url, lambda session, uid: store.record_lesson_completed(session, uid, quest, "basics/first")
    )
    with _database(database_url) as session:
        scored = evaluate(quest, store.load_facts(session, user_id, "test"))
    assert scored.xp > 0 and sum(awarded) == scored.xp
    assert sorted(awarded)[:-1] == [0] * (PARALLEL - 1)


def test_parallel_exercise_passes_award_xp_and_first_try_once(database_url: str, quest):
    def submit(session: Session, user_id: int):
        return award_submission(session, user_id, quest, "basics/first", True, {}, SECRET)

    *awards, user_id = _in_parallel(database_url, submit)
    with _database(database_url) as session:
        facts = store.load_facts(session, user_id, "test")
    scored = evaluate(quest, facts)
    assert sorted(award.attempts for award in awards) == list(range(1, PARALLEL + 1))
    assert [award.first_try for award in awards].count(True) == 1
    assert sum(award.xp for award in awards) == scored.xp > 0
    assert facts[("attempts", "basics/first")].count == PARALLEL
    assert scored.first_try_passes == ["basics/first"]
