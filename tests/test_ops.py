"""Operations endpoints: liveness, readiness (database down, runner warming up), metrics and request ids."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import httpx
import pytest
from fastapi import Request

from questlab.db import Database
from questlab.runner import service as runner_service
from questlab.settings import Settings

pytestmark = pytest.mark.anyio


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


# --- health ---------------------------------------------------------------------------------------------


async def test_live_and_ready_when_all_is_well(client: httpx.AsyncClient):
    live = await client.get("/-/health/live")
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    ready = await client.get("/-/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "up", "runner": "disabled"}
    assert (await client.get("/-/health")).json()["database"] is True


@pytest.mark.postgres
async def test_ready_is_503_when_postgresql_does_not_answer(settings: Settings):
    from questlab.web.app import create_app

    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/questlab"
    app = create_app(settings.model_copy(update={"database_url": url}))
    try:
        async with _client(app) as http:
            ready = await http.get("/-/health/ready")
            assert ready.status_code == 503
            assert ready.json() == {"status": "not_ready", "database": "down", "runner": "disabled"}
            assert (await http.get("/-/health")).status_code == 503
            assert (await http.get("/-/health/live")).status_code == 200
    finally:
        app.state.db.dispose()


async def test_ready_is_503_when_the_sqlite_file_cannot_be_opened(settings: Settings, tmp_path: Path):
    from questlab.db import upgrade
    from questlab.web.app import create_app

    folder = tmp_path / "gone"
    url = f"sqlite:///{folder / 'questlab.sqlite3'}"
    upgrade(url)
    db = Database(url)
    app = create_app(settings.model_copy(update={"database_url": url}), database=db)
    async with _client(app) as http:
        assert (await http.get("/-/health/ready")).status_code == 200
        db.dispose()  # no pooled connection keeps the removed file open
        shutil.rmtree(folder)
        ready = await http.get("/-/health/ready")
        assert ready.status_code == 503 and ready.json()["database"] == "down"
        assert (await http.get("/-/health/live")).status_code == 200


async def test_a_hanging_database_is_down_after_the_timeout(client: httpx.AsyncClient, monkeypatch):
    from questlab.web import ops

    def hangs(db: Database) -> None:
        import time

        time.sleep(1.0)

    monkeypatch.setattr(ops, "_ping", hangs)
    assert await ops.database_answers(client.app.state.db, 0.1) is False  # type: ignore[attr-defined]


async def test_ready_is_503_while_the_runner_warms_up_then_200(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    """The runner's start is held until the test lets it go (then it 'starts' without a process)."""
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    gate = asyncio.Event()

    async def held(self: runner_service.RunnerService) -> None:
        await gate.wait()
        self.chosen = "none"

    monkeypatch.setattr(runner_service.RunnerService, "_start", held)
    app = create_app(settings.model_copy(update={"runner_enabled": True}))
    async with app.router.lifespan_context(app), _client(app) as http:
        ready = await http.get("/-/health/ready")
        assert ready.status_code == 503
        assert ready.json() == {"status": "not_ready", "database": "up", "runner": "starting"}
        assert (await http.get("/-/health/live")).status_code == 200
        gate.set()
        await wait_for_runner(app)
        ready = await http.get("/-/health/ready")
        assert ready.status_code == 200 and ready.json()["runner"] == "unsandboxed"


async def test_ready_is_503_when_the_runner_could_not_start(settings: Settings, monkeypatch):
    from questlab.runner import SandboxUnavailable
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    async def fails(self: runner_service.RunnerService) -> None:
        raise SandboxUnavailable("bwrap is not installed")

    monkeypatch.setattr(runner_service.RunnerService, "_start", fails)
    app = create_app(settings.model_copy(update={"runner_enabled": True}))
    async with app.router.lifespan_context(app), _client(app) as http:
        await wait_for_runner(app)
        ready = await http.get("/-/health/ready")
        assert ready.status_code == 503 and ready.json()["runner"] == "off"


# --- metrics --------------------------------------------------------------------------------------------

LESSON = "/quests/test/basics/first/"
LESSON_ROUTE = "/quests/{quest_slug}/{chapter_slug}/{lesson_slug}/"


async def scrape(http: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` of every sample at ``/-/metrics``, parsed with
    prometheus_client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    response = await http.get("/-/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def test_requests_are_counted_by_route_template(client: httpx.AsyncClient):
    for path in [LESSON, LESSON, "/quests/test/", "/nope-1", "/nope-2/deeper?x=1", "/static/css/site.css"]:
        await client.get(path)
    samples = await scrape(client)
    requests = "questlab_http_requests_total"
    assert value(samples, requests, method="GET", route=LESSON_ROUTE, status="200") == 2
    assert value(samples, requests, method="GET", route="/quests/{quest_slug}/", status="200") == 1
    assert value(samples, requests, method="GET", route="unmatched", status="404") == 2
    assert value(samples, requests, method="GET", route="/static/{path}", status="200") == 1
    seconds = "questlab_http_request_duration_seconds"
    assert value(samples, seconds + "_count", method="GET", route=LESSON_ROUTE) == 2
    assert value(samples, seconds + "_bucket", method="GET", route=LESSON_ROUTE, le="+Inf") == 2
    routes = {dict(labels).get("route") for _name, labels in samples}
    assert not any("nope" in str(route) or "test" in str(route) for route in routes)
    assert value(samples, "questlab_pages_total", page="lesson") == 2


async def test_odd_methods_share_one_label(client: httpx.AsyncClient):
    await client.request("BREW", "/")
    samples = await scrape(client)
    assert any(
        name == "questlab_http_requests_total" and dict(labels)["method"] == "other"
        for name, labels in samples
    )


async def test_active_learners_expire_after_five_minutes(client: httpx.AsyncClient):
    from questlab.web.metrics import ActiveLearners
    from tests.helpers import sign_up

    now = [1000.0]
    app = client.app  # type: ignore[attr-defined]
    app.state.metrics.active = ActiveLearners(clock=lambda: now[0])
    assert value(await scrape(client), "questlab_active_learners") == 0
    await sign_up(client)
    await client.get("/api/me/progress")
    assert value(await scrape(client), "questlab_active_learners") == 1
    now[0] += 299
    assert value(await scrape(client), "questlab_active_learners") == 1
    now[0] += 2
    assert value(await scrape(client), "questlab_active_learners") == 0


def test_active_learners_forget_the_expired_without_scrapes():
    from questlab.web.metrics import ActiveLearners

    now = [0.0]
    active = ActiveLearners(window_s=10, clock=lambda: now[0])
    for user in range(100):
        active.seen(user)
    now[0] = 11
    active.seen(1000)
    assert len(active._last_seen) == 1 and active.count() == 1


@pytest.fixture
def held_runs(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The runner 'starts' without a process and each run waits for the returned event, then is ok."""
    from questlab.runner import RunResult

    release = asyncio.Event()

    async def start(self: runner_service.RunnerService) -> None:
        self.chosen = "none"

    async def execute(self, slot, code, limits, harness) -> RunResult:  # type: ignore[no-untyped-def]
        await release.wait()
        return RunResult(status="ok", stdout="", duration_ms=5.0, cpu_ms=4.0)

    monkeypatch.setattr(runner_service.RunnerService, "_start", start)
    monkeypatch.setattr(runner_service.RunnerService, "_execute", execute)
    return release


async def test_runner_pool_queue_and_run_outcomes(settings: Settings, held_runs: asyncio.Event):
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner
    from tests.helpers import csrf_headers

    app = create_app(settings.model_copy(update={"runner_enabled": True, "runner_slots": 1}))
    async with app.router.lifespan_context(app), _client(app) as http:
        await wait_for_runner(app)
        headers = await csrf_headers(http)
        runs = [
            asyncio.create_task(http.post("/api/run", json={"code": "print(1)"}, headers=headers))
            for _ in range(3)
        ]
        for _ in range(200):
            if app.state.runner.queue_depth == 2:
                break
            await asyncio.sleep(0.01)
        samples = await scrape(http)
        assert value(samples, "questlab_runner_slots") == 1
        assert value(samples, "questlab_runner_slots_busy") == 1
        assert value(samples, "questlab_runner_queue_depth") == 2
        held_runs.set()
        assert [r.status_code for r in await asyncio.gather(*runs)] == [200] * 3
        samples = await scrape(http)
        assert value(samples, "questlab_runs_total", status="ok") == 3
        assert value(samples, "questlab_run_seconds_count") == 3
        assert value(samples, "questlab_runner_queue_depth") == 0
        assert value(samples, "questlab_runner_slots_busy") == 0
        route = "/api/run"
        assert value(samples, "questlab_http_requests_total", method="POST", route=route, status="200") == 3


async def test_no_runner_means_an_empty_pool(client: httpx.AsyncClient):
    samples = await scrape(client)
    assert value(samples, "questlab_runner_slots") == 0 and value(samples, "questlab_runner_queue_depth") == 0


async def test_gradings_are_counted_by_outcome(settings: Settings):
    """A submission while the runner is off is ``busy``; verdicts are read from the answer."""
    from fastapi.responses import JSONResponse

    from questlab.settings import REPO_DIR
    from questlab.web.app import create_app
    from questlab.web.metrics import graded, grading_outcome
    from tests.helpers import csrf_headers

    app = create_app(settings.model_copy(update={"quests_dir": REPO_DIR / "quests"}))
    async with _client(app) as http:
        submit = "/api/quests/pytorch/networks/nn-module/submit"
        answer = await http.post(submit, json={"code": "x = 1"}, headers=await csrf_headers(http))
        assert answer.status_code == 503
        no_exercise = "/api/quests/pytorch/tensors/no-such-lesson/submit"
        missing = await http.post(no_exercise, json={"code": "x = 1"}, headers=await csrf_headers(http))
        assert missing.status_code == 404  # not a grading: not counted

        async def verdict(request: Request, status: str) -> JSONResponse:
            return JSONResponse({"status": status})

        app.add_api_route("/test/graded/{status}", graded(verdict), methods=["POST"])
        for status in ("pass", "pass", "fail"):
            assert (await http.post(f"/test/graded/{status}", headers=await csrf_headers(http))).json() == {
                "status": status
            }
        samples = await scrape(http)
    assert value(samples, "questlab_gradings_total", outcome="busy") == 1
    assert value(samples, "questlab_gradings_total", outcome="pass") == 2
    assert value(samples, "questlab_gradings_total", outcome="fail") == 1
    assert value(samples, "questlab_grading_duration_seconds_count", outcome="pass") == 2
    assert sum(v for (name, _), v in samples.items() if name == "questlab_gradings_total") == 4
    assert grading_outcome(429, b"") == "rate_limited" and grading_outcome(404, b"") is None
    assert grading_outcome(200, b"not json") == "error"


# --- request ids and structured logs --------------------------------------------------------------------


async def test_every_answer_has_a_request_id(client: httpx.AsyncClient):
    first, second = await client.get("/"), await client.get("/nope")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(len(rid) == 32 and int(rid, 16) >= 0 for rid in ids) and ids[0] != ids[1]


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("abc-123", True),
        ("0b6f1a52-6f0e-4ad0-9a3b-3a5f4d1c2e7f", True),
        ("trace.7:span-1_x", True),
        ("has spaces", False),
        ('quote"', False),
        ("x" * 65, False),
        ("-starts-with-dash", False),
        ("", False),
    ],
)
async def test_an_incoming_request_id_is_kept_only_when_sane(client: httpx.AsyncClient, incoming, kept):
    response = await client.get("/-/health/live", headers={"X-Request-ID": incoming})
    rid = response.headers["x-request-id"]
    assert (rid == incoming) is kept
    if not kept:
        assert len(rid) == 32


async def test_records_made_for_a_request_carry_its_id_runner_line_included(
    settings: Settings, held_runs: asyncio.Event, caplog: pytest.LogCaptureFixture
):
    from questlab.logs import request_id
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner
    from tests.helpers import csrf_headers

    held_runs.set()
    app = create_app(settings.model_copy(update={"runner_enabled": True}))
    caplog.set_level("INFO", logger="questlab")
    async with app.router.lifespan_context(app), _client(app) as http:
        await wait_for_runner(app)
        headers = {**await csrf_headers(http), "X-Request-ID": "run-42"}
        response = await http.post("/api/run", json={"code": "print(1)"}, headers=headers)
        assert response.status_code == 200 and response.headers["x-request-id"] == "run-42"
    lines = [r for r in caplog.records if r.name == "questlab.runner" and r.getMessage().startswith("run ok")]
    assert len(lines) == 1 and lines[0].request_id == "run-42"
    start = [r for r in caplog.records if "runner:" in r.getMessage() or "sandbox" in r.getMessage()]
    assert all(r.request_id is None for r in start)
    assert request_id.get() is None  # the request's id does not outlive it


async def test_a_500_answer_carries_the_request_id_and_is_counted(settings: Settings):
    from questlab.web.app import create_app

    app = create_app(settings)

    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/test/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        # In a task of its own, as a server runs each request: the id stays set in it after the error.
        response = await asyncio.create_task(http.get("/test/boom", headers={"X-Request-ID": "boom-1"}))
        assert response.status_code == 500 and response.headers["x-request-id"] == "boom-1"
        samples = await scrape(http)
    assert value(samples, "questlab_http_requests_total", method="GET", route="/test/boom", status="500") == 1


def test_json_lines_have_one_object_each():
    import io
    import json
    import logging

    from questlab.logs import JsonFormatter, install_record_factory, request_id

    install_record_factory()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("questlab.test.json")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    try:
        log.warning("outside %s", "any request")
        token = request_id.set("req-7")
        try:
            log.info("two\nlines, ünïcode")
            try:
                raise ValueError("bad")
            except ValueError:
                log.exception("failed")
        finally:
            request_id.reset(token)
    finally:
        log.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    outside, inside, failed = (json.loads(line) for line in lines)
    assert set(outside) == {"time", "level", "logger", "message"}
    assert outside["level"] == "WARNING" and outside["message"] == "outside any request"
    assert outside["logger"] == "questlab.test.json" and outside["time"].endswith("+00:00")
    assert inside["message"] == "two\nlines, ünïcode" and inside["request_id"] == "req-7"
    assert failed["request_id"] == "req-7" and "ValueError: bad" in failed["exception"]


def test_log_format_setting(monkeypatch: pytest.MonkeyPatch):
    from pydantic import ValidationError

    monkeypatch.setenv("QUESTLAB_LOG_FORMAT", "json")
    assert Settings().log_format == "json"
    monkeypatch.setenv("QUESTLAB_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError):
        Settings()


def test_serve_logs_json_through_one_root_handler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import logging

    import uvicorn
    from typer.testing import CliRunner

    from questlab.cli import app as cli
    from questlab.logs import HANDLER_NAME, JsonFormatter

    seen: dict = {}
    monkeypatch.setenv("QUESTLAB_LOG_FORMAT", "json")
    monkeypatch.setenv("QUESTLAB_SANDBOX", "none")
    monkeypatch.setenv("QUESTLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    root = logging.getLogger()
    before = root.level
    try:
        result = CliRunner().invoke(cli, ["serve", "--no-migrate"])
        assert result.exit_code == 0, result.output
        ours = [h for h in root.handlers if h.get_name() == HANDLER_NAME]
        assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter)
        assert seen["log_config"] is None  # uvicorn's lines go through the same handler
    finally:
        for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
            root.removeHandler(handler)
        root.setLevel(before)


def test_uvicorn_lines_carry_the_request_id(settings: Settings, caplog: pytest.LogCaptureFixture):
    """The access log line, and the traceback uvicorn logs for an unhandled error, carry the id."""
    import threading
    import time

    import uvicorn

    from questlab.web.app import create_app

    port = _closed_port()
    app = create_app(settings)

    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/test/boom", boom)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    caplog.set_level("INFO", logger="uvicorn")
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.05)
        response = httpx.get(f"http://127.0.0.1:{port}/-/health/live", headers={"X-Request-ID": "edge-9"})
        assert response.headers["x-request-id"] == "edge-9"
        failed = httpx.get(f"http://127.0.0.1:{port}/test/boom", headers={"X-Request-ID": "edge-10"})
        assert failed.status_code == 500 and failed.headers["x-request-id"] == "edge-10"
    finally:
        server.should_exit = True
        thread.join(10)
    access = [r for r in caplog.records if r.name == "uvicorn.access" and "/-/health/live" in r.getMessage()]
    assert len(access) == 1 and access[0].request_id == "edge-9"
    errors = [r for r in caplog.records if r.name == "uvicorn.error" and r.exc_info]
    assert len(errors) == 1 and errors[0].request_id == "edge-10"
