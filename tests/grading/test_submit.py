"""The submit endpoint, with a real sandboxed runner and the bundled nn.Module exercise."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from questlab.progress.tokens import _CONTEXT as TOKEN_CONTEXT
from questlab.settings import Settings
from tests.grading.conftest import EXERCISE, REPO
from tests.grading.schema_check import validate
from tests.helpers import csrf_headers

pytestmark = pytest.mark.anyio
URL = "/api/quests/pytorch/networks/nn-module/submit"
PLAIN_LIST = EXERCISE / "mistakes" / "layers-in-a-plain-list.py"
FLOOD = 'for i in range(10_000_000):\n    print("parameter", i)\n'


def verify_token(secret: str, token: str) -> dict:
    """Check a completion token by recomputing its HMAC-SHA256; return its payload."""
    payload, signature = token.split(".")
    expected = hmac.new(secret.encode(), TOKEN_CONTEXT + payload.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(expected).rstrip(b"=").decode() == signature
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def test_submit_grades_awards_and_signs(tmp_path: Path, sqlite_url: str) -> None:
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    settings = Settings(
        data_dir=tmp_path / "data",
        quests_dir=REPO / "quests",
        database_url=sqlite_url,
        runner_enabled=True,
        runner_slots=2,
        sandbox="auto",
        secret_key="test-secret",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await wait_for_runner(app)
        assert app.state.runner is not None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            headers = await csrf_headers(http)

            # A mistake first: graded, diagnosed in the asked locale, no XP, no token.
            wrong = PLAIN_LIST.read_text()
            r = await http.post(URL, json={"code": wrong, "locale": "ko"}, headers=headers)
            assert r.status_code == 200, r.text
            body = r.json()
            validate(body)
            assert body["status"] == "fail" and body["locale"] == "ko"
            assert body["xp_awarded"] == 0 and body["completion_token"] is None and body["attempts"] == 1
            assert body["lesson_completed"] is False
            diagnosed = [t for t in body["tests"] if t["diagnosis"] == "layers-in-a-plain-list"]
            assert diagnosed and "nn.ModuleList" in diagnosed[0]["message"]

            # Then the solution: a pass, but not on the first try.
            solution = (EXERCISE / "solution.py").read_text()
            r = await http.post(URL, json={"code": solution, "locale": "en"}, headers=headers)
            body = r.json()
            validate(body)
            assert body["status"] == "pass" and body["first_try"] is False and body["attempts"] == 2
            assert body["xp_awarded"] == 50  # quest.toml [xp] exercise, no first-try bonus
            assert body["lesson_completed"] is True  # the browser keeps the completion in its local progress
            claims = verify_token("test-secret", body["completion_token"])
            assert claims["q"] == "pytorch" and claims["l"] == "networks/nn-module" and claims["f"] is False

            # Passing again earns nothing more but still proves the pass.
            r = await http.post(URL, json={"code": solution}, headers=headers)
            assert r.json()["xp_awarded"] == 0 and r.json()["completion_token"]

            # A fresh visitor passing at once gets the first-try bonus.
            http.cookies.delete("questlab_attempts")
            r = await http.post(URL, json={"code": solution}, headers=headers)
            assert r.json()["first_try"] is True and r.json()["xp_awarded"] == 75
            assert verify_token("test-secret", r.json()["completion_token"])["f"] is True

            # A tampered attempts cookie is ignored, not trusted.
            http.cookies.set("questlab_attempts", "e30.forged")
            r = await http.post(URL, json={"code": "print(1"}, headers=headers)
            body = r.json()
            validate(body)
            assert body["status"] == "error" and "SyntaxError" in body["message"] and body["attempts"] == 1

            # Learner code that floods output is an error with the runner's reason, never a crash.
            r = await http.post(URL, json={"code": FLOOD, "locale": "en"}, headers=headers)
            assert r.status_code == 200 and r.json()["status"] == "error"
            assert "printed too much" in r.json()["message"]


async def test_submit_needs_csrf_header(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/quests/test/basics/first/submit", json={"code": "x = 2"})
    assert r.status_code == 403


async def test_submit_without_runner_is_503(client: httpx.AsyncClient, settings: Settings) -> None:
    # The test quest's exercise has no checks.py: 404 before the runner is asked.
    headers = await csrf_headers(client)
    r = await client.post("/api/quests/test/basics/first/submit", json={"code": "x = 2"}, headers=headers)
    assert r.status_code == 404
    checks = settings.quests_dir / "test" / "01-basics" / "01-first" / "exercise" / "checks.py"
    checks.write_text("from questlab.grading.judge import check\n")
    (checks.parent / "probe.py").write_text("from questlab.grading.sandbox import observation\n")
    from questlab.content.loader import load_catalog

    client.app.state.catalog = load_catalog(settings.quests_dir)  # type: ignore[attr-defined]
    r = await client.post("/api/quests/test/basics/first/submit", json={"code": "x = 2"}, headers=headers)
    assert r.status_code == 503


async def test_submit_unknown_lesson_is_404(client: httpx.AsyncClient) -> None:
    headers = await csrf_headers(client)
    r = await client.post("/api/quests/test/basics/nope/submit", json={"code": ""}, headers=headers)
    assert r.status_code == 404


async def test_submit_shares_the_run_rate_limit(client: httpx.AsyncClient) -> None:
    """Submissions count against the same per-visitor budget as runs: 429 with Retry-After, in the locale."""
    from questlab.content.loader import load_catalog
    from questlab.web.ratelimit import RateLimiter

    class NeverRuns:
        sandboxed, chosen, mode, starting = True, "bwrap", "bwrap", False

        async def run(self, code: str, **_: object) -> object:
            raise AssertionError("a refused submission must not reach the runner")

    app = client.app  # type: ignore[attr-defined]
    app.state.catalog = load_catalog(REPO / "quests")
    app.state.runner = NeverRuns()
    app.state.run_limiter = RateLimiter(1, 60)
    headers = await csrf_headers(client)
    app.state.run_limiter.hit(f"questlab_csrf:{client.cookies['questlab_csrf']}")  # the visitor's one run
    try:
        r = await client.post(URL, json={"code": "print(1)", "locale": "ko"}, headers=headers)
    finally:
        app.state.runner = None
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["status"] == "error" and "초 기다린 뒤" in r.json()["message"]


@asynccontextmanager
async def graded_app(tmp_path: Path, sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the app over the bundled quests, with a real sandboxed runner."""
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    settings = Settings(
        data_dir=tmp_path / "data",
        quests_dir=REPO / "quests",
        database_url=sqlite_url,
        runner_enabled=True,
        runner_slots=2,
        sandbox="auto",
        secret_key="test-secret",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await wait_for_runner(app)
        assert app.state.runner is not None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_signed_in_pass_is_recorded(tmp_path: Path, sqlite_url: str) -> None:
    """A signed-in learner's pass lands in their progress (XP, exercises passed), without a token."""
    async with graded_app(tmp_path, sqlite_url) as http:
        headers = await csrf_headers(http)
        r = await http.post(
            "/api/auth/signup",
            json={"email": "grader@example.com", "password": "correct horse"},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        solution = (EXERCISE / "solution.py").read_text()
        r = await http.post(URL, json={"code": solution, "locale": "en"}, headers=headers)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "pass", r.text
        assert body["first_try"] is True and body["completion_token"] is None
        assert body["lesson_completed"] is True
        assert body["xp_awarded"] >= 75  # [xp] exercise + first_try_bonus (+ the lesson, the active day)

        r = await http.get("/api/me/progress")
        assert r.status_code == 200, r.text
        mine = r.json()["quests"]["pytorch"]
        assert mine["exercises_passed"] == ["networks/nn-module"]
        assert mine["lessons_completed"] == ["networks/nn-module"]  # the pass completed the lesson
        assert mine["strip"]["lessons_done"] == 1 and mine["strip"]["percent"] > 0
        assert mine["first_try_passes"] == ["networks/nn-module"]
        assert mine["xp"] == body["xp_awarded"]


async def test_signed_in_first_try_is_counted_on_the_server(tmp_path: Path, sqlite_url: str) -> None:
    """Deleting the attempts cookie does not bring a signed-in learner's first-try bonus back."""
    async with graded_app(tmp_path, sqlite_url) as http:
        headers = await csrf_headers(http)
        r = await http.post(
            "/api/auth/signup",
            json={"email": "again@example.com", "password": "correct horse"},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        wrong = PLAIN_LIST.read_text()
        r = await http.post(URL, json={"code": wrong}, headers=headers)
        assert r.json()["status"] == "fail" and r.json()["attempts"] == 1

        http.cookies.delete("questlab_attempts")
        solution = (EXERCISE / "solution.py").read_text()
        r = await http.post(URL, json={"code": solution}, headers=headers)
        body = r.json()
        assert body["status"] == "pass" and body["first_try"] is False and body["attempts"] == 2
        assert body["completion_token"] is None

        mine = (await http.get("/api/me/progress")).json()["quests"]["pytorch"]
        assert mine["exercises_passed"] == ["networks/nn-module"] and mine["first_try_passes"] == []
        assert mine["xp"] == body["xp_awarded"]


async def test_a_submission_behind_a_long_grading_backlog_is_told_busy(client: httpx.AsyncClient) -> None:
    """With no entry ready and the trusted runs' backlog past the longest queued wait, a submission
    is answered 503 busy with Retry-After at once instead of waiting without a bound."""
    import asyncio

    from questlab.content.loader import load_catalog
    from questlab.grading.judge.bank import GradingBank

    class SlowRunner:
        sandboxed, chosen, mode, starting = True, "bwrap", "bwrap", False

        def typical_run_s(self) -> float:
            return 0.5

        async def run(self, code: str, **_: object) -> object:
            await asyncio.sleep(30)  # never answers within the test
            raise AssertionError("unreachable")

    app = client.app  # type: ignore[attr-defined]
    app.state.catalog = load_catalog(REPO / "quests")
    runner = SlowRunner()
    app.state.runner = runner
    bank = GradingBank(runner)
    app.state.grading_bank = bank
    exercise = app.state.catalog.quests["pytorch"].find("networks", "nn-module").exercise
    try:
        for _ in range(5):  # other exercises' entries: 5 × 7 trusted runs wait for 2 places
            bank._start(exercise)
        await asyncio.sleep(0.05)
        assert not bank.ready(exercise) and bank.expected_wait_s() > app.state.settings.runner_max_wait_s
        headers = await csrf_headers(client)
        r = await client.post(URL, json={"code": "print(1)", "locale": "en"}, headers=headers)
        assert r.status_code == 503 and int(r.headers["retry-after"]) >= 3
        assert "busy" in r.json()["message"]
    finally:
        await bank.close()
        app.state.runner = None
