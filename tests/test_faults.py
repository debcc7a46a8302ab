"""Faults, each for real: a `questlab serve` process killed with SIGKILL during a burst of progress writes,
PostgreSQL restarted during a burst, and a burst of slow runs that fills the run queue.

- Killed server (the machine's PostgreSQL, a fresh database): every write answered 2xx before the kill is
  in the database afterwards, and a server started again in its place serves.
- PostgreSQL restart (a private cluster on its own port, never the shared server): while the database is
  down, requests answer 503 with a sentence within seconds (no 500, no hang); once it is back, the same
  server process answers 200 again.
- Full run queue (one slot, a short longest wait): the burst gets some 200s and then 503 with
  Retry-After, never a timeout; a calm client afterwards is served.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from questlab.content.loader import load_catalog
from questlab.db import Database, upgrade
from questlab.db.models import ProgressFact, User
from questlab.settings import REPO_DIR
from tests.conftest import _postgres_database
from tests.services import PrivatePostgres, ServeProcess

pytestmark = pytest.mark.timeout(300)
LESSONS = [lesson.key for lesson in load_catalog(REPO_DIR / "quests").quests["pytorch"].lessons()]
WRITERS = 4


def _env(database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "QUESTLAB_SECRET_KEY": "questlab-faults",
        "QUESTLAB_RUNNER_ENABLED": "false",
        "QUESTLAB_DEFAULT_LOCALE": "en",
        **extra,
    }
    if database_url:
        env["QUESTLAB_DATABASE_URL"] = database_url
    return env


def _sign_up(base: str, email: str) -> httpx.Cookies:
    with httpx.Client(base_url=base, timeout=30) as http:
        http.get("/")
        r = http.post(
            "/api/auth/signup",
            json={"email": email, "password": "correct horse battery"},
            headers={"X-CSRF-Token": http.cookies["questlab_csrf"]},
        )
        assert r.status_code == 201, r.text
        return http.cookies


def _sync_payload(device: str, lesson: str) -> dict:
    today = datetime.now(UTC).date().isoformat()
    return {
        "device": device,
        "tz": "UTC",
        "quests": {
            "pytorch": {"lessons_completed": [lesson], "code_runs": {today: 1}, "active_days": [today]}
        },
    }


def _stored(url: str) -> dict[str, set[tuple[str, str]]]:
    """Every learner's stored progress facts, ``(kind, key)``, by email."""
    db = Database(url)
    try:
        with db.session() as session:
            rows = session.execute(
                select(User.email, ProgressFact.kind, ProgressFact.key).join(
                    ProgressFact, ProgressFact.user_id == User.id
                )
            )
            stored: dict[str, set[tuple[str, str]]] = defaultdict(set)
            for email, kind, key in rows:
                stored[email].add((kind, key))
            return stored
    finally:
        db.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, migrated database on the machine's PostgreSQL (dropped afterwards)."""
    for url in _postgres_database():
        upgrade(url)
        yield url


@pytest.mark.postgres
def test_a_killed_server_loses_no_acknowledged_write(tmp_path: Path, postgres_url: str) -> None:
    url = postgres_url
    server = ServeProcess(tmp_path / "serve", _env(url))
    server.start()
    try:
        emails = [f"writer{i}@example.com" for i in range(WRITERS)]
        cookies = [_sign_up(server.url, email) for email in emails]
        acknowledged: dict[str, set[tuple[str, str]]] = defaultdict(set)
        writes = [0]  # syncs answered 2xx
        failed_after_kill = [0]
        killed = threading.Event()
        stop = threading.Event()
        day = datetime.now(UTC).date().isoformat()

        def write(index: int) -> None:
            headers = {"X-CSRF-Token": cookies[index]["questlab_csrf"]}
            with httpx.Client(base_url=server.url, cookies=cookies[index], timeout=10) as http:
                for n in range(1_000_000):
                    if stop.is_set():
                        return
                    device, lesson = f"w{index}n{n}", LESSONS[(index * 7 + n) % len(LESSONS)]
                    try:
                        r = http.post(
                            "/api/progress/sync", json=_sync_payload(device, lesson), headers=headers
                        )
                    except httpx.HTTPError:
                        if killed.is_set():
                            failed_after_kill[0] += 1
                        time.sleep(0.05)
                        continue
                    assert r.status_code == 200 or killed.is_set(), r.text
                    if 200 <= r.status_code < 300:
                        writes[0] += 1
                        acknowledged[emails[index]] |= {
                            ("code_runs", f"{device}:{day}"),
                            ("lesson", lesson),
                        }

        with ThreadPoolExecutor(WRITERS) as pool:
            futures = [pool.submit(write, i) for i in range(WRITERS)]
            deadline = time.monotonic() + 60
            while writes[0] < 60 and time.monotonic() < deadline:
                time.sleep(0.02)
            killed.set()
            server.kill()  # SIGKILL in the middle of the writers' requests
            time.sleep(0.5)
            stop.set()
            for future in futures:
                future.result()
        assert writes[0] >= 60
        assert failed_after_kill[0] >= 1  # the kill did cut requests off

        print(
            f"kill -9: {writes[0]} syncs acknowledged ({sum(len(v) for v in acknowledged.values())} facts), "
            f"{failed_after_kill[0]} requests failed after the kill"
        )
        stored = _stored(url)
        for email, facts in acknowledged.items():
            missing = facts - stored[email]
            assert not missing, f"{email}: {len(missing)} acknowledged writes lost: {sorted(missing)[:5]}"

        again = ServeProcess(tmp_path / "serve", _env(url), port=server.port)
        again.start()
        try:
            with httpx.Client(base_url=again.url, cookies=cookies[0], timeout=10) as http:
                headers = {"X-CSRF-Token": cookies[0]["questlab_csrf"]}
                r = http.post("/api/progress/sync", json=_sync_payload("after", LESSONS[0]), headers=headers)
                assert r.status_code == 200, r.text
                mine = http.get("/api/me/progress").json()["quests"]["pytorch"]
                done = {key for kind, key in acknowledged[emails[0]] if kind == "lesson"} | {LESSONS[0]}
                assert done <= set(mine["lessons_completed"])
        finally:
            again.stop()
    finally:
        server.stop()


@dataclass
class Answer:
    sent: float
    seconds: float
    path: str
    status: int | None
    body: str
    retry_after: str | None


def test_a_postgres_restart_answers_503_then_serves_again(tmp_path: Path) -> None:
    pg = PrivatePostgres()
    server = None
    try:
        pg.init()
        pg.start()
        url = pg.create_database()
        upgrade(url)
        server = ServeProcess(tmp_path / "serve", _env(url))
        server.start()
        cookies = [_sign_up(server.url, f"outage{i}@example.com") for i in range(3)]
        answers: list[Answer] = []
        stop = threading.Event()

        def traffic(index: int) -> None:
            headers = {"X-CSRF-Token": cookies[index]["questlab_csrf"]}
            requests = [
                ("POST", "/api/progress/sync"),
                ("GET", "/api/me/progress"),
                ("GET", "/quests/pytorch/"),
                ("GET", "/quests/pytorch/networks/nn-module/"),
            ]
            with httpx.Client(base_url=server.url, cookies=cookies[index], timeout=15) as http:
                for n in range(1_000_000):
                    if stop.is_set():
                        return
                    method, path = requests[n % len(requests)]
                    sent = time.monotonic()
                    try:
                        if method == "POST":
                            r = http.post(
                                path, json=_sync_payload(f"o{index}n{n}", LESSONS[n % 8]), headers=headers
                            )
                        else:
                            r = http.get(path)
                        answer = Answer(sent, time.monotonic() - sent, path, r.status_code, r.text, None)
                        answer.retry_after = r.headers.get("Retry-After")
                    except httpx.HTTPError as error:
                        answer = Answer(sent, time.monotonic() - sent, path, None, repr(error), None)
                    answers.append(answer)
                    time.sleep(0.02)

        with ThreadPoolExecutor(len(cookies)) as pool:
            futures = [pool.submit(traffic, i) for i in range(len(cookies))]
            time.sleep(1.5)
            down_at = time.monotonic()
            pg.stop()
            stopped_at = time.monotonic()
            time.sleep(1.0)
            with httpx.Client(base_url=server.url, timeout=15) as probe:
                ready = probe.get("/-/health/ready")
                live = probe.get("/-/health/live")
            time.sleep(2.0)
            restart_at = time.monotonic()
            pg.start()
            up_at = time.monotonic()
            time.sleep(4.0)
            stop.set()
            for future in futures:
                future.result()

        assert ready.status_code == 503 and ready.json()["database"] == "down", ready.text
        assert live.status_code == 200
        unanswered = [a for a in answers if a.status is None]
        assert not unanswered, unanswered[:3]
        assert max(a.seconds for a in answers) < 5, sorted(answers, key=lambda a: -a.seconds)[:3]
        assert not [a for a in answers if a.status == 500], [a for a in answers if a.status == 500][:3]
        during = [a for a in answers if a.sent >= stopped_at and a.sent + a.seconds <= restart_at]
        assert during and all(a.status == 503 for a in during), [(a.path, a.status) for a in during][:10]
        for a in [a for a in answers if a.status == 503]:
            assert a.retry_after and int(a.retry_after) >= 1, a
            assert "database is not answering" in a.body, a.body[:500]
            if a.path.startswith("/api/"):
                assert '"code":"database_unavailable"' in a.body.replace(" ", ""), a.body
        assert all(a.status in (200, 503) for a in answers if a.sent >= down_at), {a.status for a in answers}
        after = [a for a in answers if a.sent > up_at + 1.0]
        assert after and all(a.status == 200 for a in after), [
            (a.path, a.status, a.body[:200]) for a in after
        ][:5]
        assert server.proc is not None and server.proc.poll() is None  # the same process, never restarted
        refused = [a.seconds for a in answers if a.status == 503]
        back = min(a.sent + a.seconds for a in answers if a.status == 200 and a.sent > restart_at) - up_at
        print(
            f"postgres restart: {len(answers)} answers, {len(refused)} were 503 "
            f"(slowest {max(refused):.3f} s), slowest answer {max(a.seconds for a in answers):.3f} s, "
            f"database down {restart_at - down_at:.1f} s, first 200 {back:+.2f} s after pg_ctl start returned"
        )
    finally:
        if server is not None:
            server.stop()
        pg.remove()


SLOW_RUN = "import time\ntime.sleep(0.4)\nprint('done')"


def test_a_full_run_queue_answers_503_with_retry_after_then_serves(tmp_path: Path) -> None:
    env = _env(
        QUESTLAB_RUNNER_ENABLED="true",
        QUESTLAB_RUNNER_SLOTS="1",
        QUESTLAB_RUNNER_MAX_WAIT_S="1.0",
        QUESTLAB_RUN_RATE_PER_MINUTE="10000",
        QUESTLAB_RUN_RATE_PER_ADDRESS_PER_MINUTE="10000",
    )
    server = ServeProcess(tmp_path / "serve", env)
    server.start()
    try:

        def run(_: int) -> tuple[float, httpx.Response]:
            with httpx.Client(base_url=server.url, timeout=30) as http:  # a new visitor each time
                http.get("/-/health/live")
                token = http.cookies["questlab_csrf"]
                started = time.monotonic()
                r = http.post("/api/run", json={"code": SLOW_RUN}, headers={"X-CSRF-Token": token})
                return time.monotonic() - started, r

        for _ in range(3):  # the runner learns how long such a run takes
            assert run(0)[1].json()["stdout"] == "done\n"
        with ThreadPoolExecutor(12) as pool:
            burst = list(pool.map(run, range(12)))
        statuses = [r.status_code for _, r in burst]
        assert set(statuses) == {200, 503}, statuses
        for seconds, r in burst:
            assert seconds < 10, (seconds, r.text)
            if r.status_code == 200:
                assert r.json()["status"] == "ok" and r.json()["stdout"] == "done\n", r.text
            else:
                assert r.json()["status"] == "busy" and int(r.headers["Retry-After"]) >= 1, r.text
        refused = max(seconds for seconds, r in burst if r.status_code == 503)
        assert refused < 1.0  # refused at once, not after waiting
        served = [seconds for seconds, r in burst if r.status_code == 200]
        hints = sorted({r.headers["Retry-After"] for _, r in burst if r.status_code == 503})
        print(
            f"full queue: {len(served)} × 200 (slowest {max(served):.2f} s), {statuses.count(503)} × 503 "
            f"(slowest {refused:.3f} s, Retry-After {hints})"
        )
        time.sleep(2.0)  # the queue drains
        seconds, calm = run(0)
        assert calm.status_code == 200 and calm.json()["stdout"] == "done\n", calm.text
        assert seconds < 5
    finally:
        server.stop()


def _db_error(kind: type[Exception]) -> Exception:
    return kind("SELECT 1", {}, Exception("connection to server at 127.0.0.1 failed: Connection refused"))


@pytest.mark.anyio
async def test_database_errors_map_to_503_and_query_bugs_stay_500(settings) -> None:
    from sqlalchemy import exc as sa_exc

    from questlab.web.app import create_app

    app = create_app(settings)

    async def unreachable() -> None:
        raise _db_error(sa_exc.OperationalError)

    async def broken_query() -> None:
        raise _db_error(sa_exc.IntegrityError)

    app.add_api_route("/api/test/unreachable", unreachable)
    app.add_api_route("/test/unreachable", unreachable)
    app.add_api_route("/api/test/broken", broken_query)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        api = await http.get("/api/test/unreachable?lang=en")
        assert api.status_code == 503 and api.headers["Retry-After"] == "5"
        assert api.json() == {
            "detail": "The database is not answering right now; try again in a few seconds.",
            "code": "database_unavailable",
        }
        korean = await http.get("/api/test/unreachable?lang=ko")
        assert (
            korean.json()["detail"] == "지금은 데이터베이스가 응답하지 않습니다. 몇 초 뒤에 다시 시도하세요."
        )
        http.cookies.set("questlab_session", "anything")  # a signed-in browser: its account cannot be read
        page = await http.get("/test/unreachable?lang=ko")
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert "지금은 데이터베이스가 응답하지 않습니다" in page.text and "<html" in page.text
        assert (await http.get("/api/test/broken")).status_code == 500
