"""Operations endpoints under ``/-/``: health, liveness and readiness (metrics: :mod:`questlab.web.metrics`).

``/-/health/live`` says the process answers (a restart is the cure when it does not);
``/-/health/ready`` says whether this process should get traffic now (the database answers and the
runner is ready); ``/-/health`` is the older summary of every part for people and dashboards.
"""

from __future__ import annotations

import asyncio

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from questlab.db import Database
from questlab.web.pages import runner_state

DATABASE_TIMEOUT_S = 2.0
"""Longest wait for the database's answer to a health check; a slower database counts as down."""

READY_RUNNER_STATES = frozenset({"sandboxed", "unsandboxed", "disabled"})
"""Runner states in which the process is ready: running, or turned off on purpose by the settings."""


def _ping(db: Database) -> None:
    with db.session() as session:
        session.execute(text("SELECT 1"))


async def database_answers(db: Database, timeout_s: float = DATABASE_TIMEOUT_S) -> bool:
    """Whether ``SELECT 1`` succeeds within ``timeout_s`` seconds.

    The query runs in a worker thread, so a database that hangs does not hold up the event loop.

    Args:
        db: the application's database.
        timeout_s: seconds to wait for the answer.

    Returns:
        True when the database answered; False on any error or after the timeout.
    """
    try:
        await asyncio.wait_for(run_in_threadpool(_ping, db), timeout_s)
    except Exception:  # noqa: BLE001 - any database failure means "not answering"
        return False
    return True


async def refresh_workers(request: Request, timeout_s: float = DATABASE_TIMEOUT_S) -> None:
    """Read the runner workers' heartbeats again when runs go to ``questlab worker`` processes.

    The Celery runner learns which workers are online (and so whether it is ready) from their
    heartbeats, read at most every second and otherwise only when a run comes; a health check reads
    them too, so a process whose workers came up after it started turns ready without a run first.
    Redis down or slow (past ``timeout_s``) leaves the last reading as it was.
    """
    runner = request.app.state.runner
    workers = getattr(runner, "workers", None)
    if workers is None or runner.starting:
        return
    try:
        await asyncio.wait_for(workers(), timeout_s)
    except Exception:  # noqa: BLE001 - an unreachable Redis is reported by runs, not by the probe
        return


def runner_readiness(request: Request) -> str:
    """The runner's state for readiness: :func:`~questlab.web.pages.runner_state`, or ``"disabled"``
    when ``QUESTLAB_RUNNER_ENABLED=false`` (so ``"off"`` means it should run but does not)."""
    if not request.app.state.settings.runner_enabled:
        return "disabled"
    return runner_state(request)


async def health(request: Request) -> JSONResponse:
    """``GET /-/health``: 200 with each part's state when the database answers, else 503.

    Returns:
        ``{"status": "ok"|"degraded", "database": bool, "quests": int, "content_errors": int,
        "runner": "sandboxed"|"unsandboxed"|"starting"|"off"}``
        (``starting`` while the runner warms up after the server started).
    """
    state = request.app.state
    database = await database_answers(state.db)
    await refresh_workers(request)
    body = {
        "status": "ok" if database else "degraded",
        "database": database,
        "quests": len(state.catalog.quests),
        "content_errors": len(state.catalog.errors),
        "runner": runner_state(request),
    }
    return JSONResponse(body, status_code=200 if database else 503)


async def live(request: Request) -> JSONResponse:
    """``GET /-/health/live``: 200 ``{"status": "alive"}`` whenever the process answers.

    Touches neither the database nor the runner: a liveness probe that failed with the database
    would restart every web process during a database outage, which cures nothing.
    """
    return JSONResponse({"status": "alive"})


async def ready(request: Request) -> JSONResponse:
    """``GET /-/health/ready``: whether this process can serve learners now.

    Returns:
        200 when the database answers (within :data:`DATABASE_TIMEOUT_S`) and the runner is ready or
        disabled by the settings, else 503; the body names each part's state either way:
        ``{"status": "ready"|"not_ready", "database": "up"|"down",
        "runner": "sandboxed"|"unsandboxed"|"disabled"|"starting"|"off"}`` (``starting`` while the
        runner warms up after the server started, ``off`` when it should run but could not start).
    """
    database = "up" if await database_answers(request.app.state.db) else "down"
    await refresh_workers(request)
    runner = runner_readiness(request)
    is_ready = database == "up" and runner in READY_RUNNER_STATES
    body = {"status": "ready" if is_ready else "not_ready", "database": database, "runner": runner}
    return JSONResponse(body, status_code=200 if is_ready else 503)
