"""Starting and stopping the code runner with the application.

The runner starts in the background: the server answers pages at once, and while the
warm parent imports torch (a few seconds) Run answers 503 "warming up, retry in N s".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:
    from questlab.runner import RunnerService

log = logging.getLogger("questlab.runner")


async def start_runner(app: FastAPI) -> None:
    """Begin starting the runner when ``settings.runner_enabled``; returns at once.

    The runner is the in-process sandbox pool, or with ``settings.runner == "celery"`` a
    :class:`questlab.runner.remote.CeleryRunner` sending runs to ``questlab worker`` processes.

    ``app.state.runner`` is the service from now on (its ``starting`` is True until it is
    ready) and ``app.state.runner_task`` the start in progress. When the start fails (only
    possible with ``QUESTLAB_SANDBOX=bwrap``: ``auto`` falls back to no sandbox), the error is
    logged, ``app.state.runner`` becomes None (Run answers 503) and
    ``app.state.on_runner_failure`` is called when set (``questlab serve`` stops the server
    then, so a server that must sandbox never serves without it).
    """
    settings = app.state.settings
    if not settings.runner_enabled:
        log.info("runner: disabled by settings; Run and Submit answer 503")
        return
    try:
        from questlab.runner import RunnerService
    except ImportError:  # the runner package is not built in this tree
        log.warning("runner: not available in this build")
        return
    if settings.runner == "celery":
        from questlab.runner.remote import CeleryRunner

        runner = CeleryRunner(
            broker_url=settings.broker_url or settings.redis_url, redis_url=settings.redis_url
        )
    else:
        runner = RunnerService(
            slots=settings.runner_slots,
            queue_size=settings.runner_queue,
            sandbox=settings.sandbox,
            max_wait_s=settings.runner_max_wait_s,
        )
    app.state.runner = runner
    from questlab.grading.judge.bank import GradingBank

    app.state.grading_bank = GradingBank(runner)
    app.state.runner_task = asyncio.create_task(_start(app, runner, runner.start_soon()))


async def _start(app: FastAPI, runner: RunnerService, start: asyncio.Task[None]) -> None:
    try:
        await start
    except Exception as error:  # noqa: BLE001 - any failure leaves pages up and Run off
        log.error("runner: could not start (%s); Run and Submit answer 503", error)
        if app.state.runner is runner:
            app.state.runner = None
        await runner.close()
        failure: Callable[[BaseException], None] | None = getattr(app.state, "on_runner_failure", None)
        if failure is not None:
            failure(error)


async def wait_for_runner(app: FastAPI, timeout_s: float = 120.0) -> None:
    """Wait until a start begun by :func:`start_runner` has ended (ready or failed).

    Raises:
        TimeoutError: when it takes longer than ``timeout_s`` seconds.
    """
    task = getattr(app.state, "runner_task", None)
    if task is not None:
        await asyncio.wait_for(asyncio.shield(task), timeout_s)


async def stop_runner(app: FastAPI) -> None:
    """Stop the runner if it runs (a start still in progress is cancelled first)."""
    task = getattr(app.state, "runner_task", None)
    if task is not None and not task.done():
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping regardless
            pass
    app.state.runner_task = None
    runner = app.state.runner
    bank = getattr(app.state, "grading_bank", None)
    if bank is not None:
        await bank.close()
        app.state.grading_bank = None
    if runner is not None:
        await runner.close()
        app.state.runner = None
