"""``POST /api/run`` through the real app and the real runner: results, limits, busy and rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from questlab.settings import Settings
from tests.helpers import csrf_headers

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def run_client(tmp_path_factory) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its runner started once for this module (bubblewrap when available)."""
    from questlab.db import upgrade
    from questlab.settings import REPO_DIR
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    tmp = tmp_path_factory.mktemp("run")
    url = f"sqlite:///{tmp / 'db.sqlite3'}"
    upgrade(url)
    settings = Settings(
        data_dir=tmp,
        database_url=url,
        quests_dir=REPO_DIR / "quests",
        secret_key="s",
        run_rate_per_minute=1000,
        runner_slots=2,
        runner_queue=2,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await wait_for_runner(app)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=60
        ) as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


async def test_run_returns_the_versioned_result(run_client: httpx.AsyncClient):
    code = (
        "import torch\nfrom torch import nn\n"
        "model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))\n"
        "print(sum(p.numel() for p in model.parameters()))\n"
    )
    response = await run_client.post("/api/run", json={"code": code}, headers=await csrf_headers(run_client))
    assert response.status_code == 200
    body = response.json()
    assert body["version"] >= 1 and body["status"] == "ok" and body["stdout"] == "23\n"
    assert body["exit_code"] == 0 and body["duration_ms"] > 0
    tree = [m for m in body["modules"] if m["name"] == "model"][0]
    assert tree["class"] == "Sequential" and tree["params"] == 23
    assert [child["class"] for child in tree["children"]] == ["Linear", "ReLU", "Linear"]


async def test_run_reports_errors_with_the_learners_traceback(run_client: httpx.AsyncClient):
    response = await run_client.post(
        "/api/run", json={"code": "x = 1\n1 / 0\n"}, headers=await csrf_headers(run_client)
    )
    body = response.json()
    assert body["status"] == "error" and "ZeroDivisionError" in body["traceback"]
    assert "line 2" in body["traceback"] and "questlab" not in body["traceback"]


async def test_run_needs_csrf(run_client: httpx.AsyncClient):
    response = await run_client.post("/api/run", json={"code": "print(1)"})
    assert response.status_code == 403


async def test_malformed_and_huge_bodies_are_refused(run_client: httpx.AsyncClient):
    headers = await csrf_headers(run_client)
    assert (await run_client.post("/api/run", json={"cod": "x"}, headers=headers)).status_code == 422
    assert (
        await run_client.post(
            "/api/run", content=b"{not json", headers={**headers, "content-type": "application/json"}
        )
    ).status_code == 422
    huge = "x = 1\n" * 20_000
    response = await run_client.post("/api/run", json={"code": huge}, headers=headers)
    assert response.status_code == 422 and "100000" in response.text


async def test_rate_limit_answers_429_with_retry_after(run_client: httpx.AsyncClient):
    from questlab.web.ratelimit import RateLimiter

    app = run_client.app  # type: ignore[attr-defined]
    saved = app.state.run_limiter if hasattr(app.state, "run_limiter") else None
    app.state.run_limiter = RateLimiter(2, 60)
    try:
        headers = await csrf_headers(run_client)
        codes = [
            (await run_client.post("/api/run", json={"code": "pass"}, headers=headers)) for _ in range(3)
        ]
        assert [c.status_code for c in codes] == [200, 200, 429]
        assert codes[2].json()["status"] == "busy" and int(codes[2].headers["retry-after"]) >= 1
    finally:
        app.state.run_limiter = saved


async def test_busy_when_slots_and_queue_are_full(run_client: httpx.AsyncClient):
    import asyncio

    headers = await csrf_headers(run_client)
    sleeper = {"code": "import time\ntime.sleep(1.5)\n"}
    responses = await asyncio.gather(
        *(run_client.post("/api/run", json=sleeper, headers=headers) for _ in range(7))
    )
    statuses = sorted(r.status_code for r in responses)
    busy = [r for r in responses if r.status_code == 503]
    assert statuses.count(200) == 4 and len(busy) == 3  # 2 slots + 2 queued; the rest told to retry
    assert all(r.json()["status"] == "busy" and int(r.headers["retry-after"]) >= 1 for r in busy)
    after = await run_client.post("/api/run", json={"code": "print('still fine')"}, headers=headers)
    assert after.json()["stdout"] == "still fine\n"


async def test_metrics_count_runs_by_status(run_client: httpx.AsyncClient):
    headers = await csrf_headers(run_client)
    await run_client.post("/api/run", json={"code": "raise SystemExit(3)"}, headers=headers)
    text = (await run_client.get("/-/metrics")).text
    assert 'questlab_runs_total{status="error"}' in text and "questlab_run_seconds_count" in text


async def test_forged_cookies_do_not_escape_the_address_limit(run_client: httpx.AsyncClient):
    """A client that sends a new CSRF cookie with every request is still held to its address's budget."""
    from questlab.web.ratelimit import RateLimiter

    app = run_client.app  # type: ignore[attr-defined]
    saved = app.state.run_address_limiter if hasattr(app.state, "run_address_limiter") else None
    app.state.run_address_limiter = RateLimiter(3, 60)
    try:
        codes = []
        for index in range(5):
            token = f"forged-{index}"
            run_client.cookies.set("questlab_csrf", token)
            response = await run_client.post(
                "/api/run", json={"code": "pass"}, headers={"X-CSRF-Token": token}
            )
            codes.append(response.status_code)
        assert codes == [200, 200, 200, 429, 429]
    finally:
        app.state.run_address_limiter = saved
        run_client.cookies.delete("questlab_csrf")


async def test_huge_bodies_are_refused_before_parsing(run_client: httpx.AsyncClient):
    headers = await csrf_headers(run_client)
    body = b'{"code": "' + b"x" * 5_000_000 + b'"}'
    response = await run_client.post(
        "/api/run", content=body, headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_limit_messages_speak_the_learners_language(run_client: httpx.AsyncClient):
    headers = await csrf_headers(run_client)
    spin = {"code": "while True:\n    pass\n"}
    korean = (await run_client.post("/api/run?lang=ko", json=spin, headers=headers)).json()
    assert (
        korean["status"] == "timeout"
        and "CPU 시간" in korean["message"]
        and "초를 넘어서" in korean["message"]
    )
    english = await run_client.post("/api/run", json=spin, headers={**headers, "Accept-Language": "en"})
    assert english.json()["message"].startswith("stopped after ")
    run_client.cookies.delete("questlab_lang")
