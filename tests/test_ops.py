"""Operations endpoints: liveness, readiness (database down, runner warming up), metrics and request ids."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import httpx
import pytest

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
