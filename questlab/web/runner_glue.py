"""Starting and stopping the code runner with the application."""

from __future__ import annotations

import logging

from fastapi import FastAPI

log = logging.getLogger("questlab.runner")


async def start_runner(app: FastAPI) -> None:
    """Start the runner's warm pool when ``settings.runner_enabled``; store it as ``app.state.runner``."""
    settings = app.state.settings
    if not settings.runner_enabled:
        log.info("runner: disabled by settings; Run and Submit answer 503")
        return
    try:
        from questlab.runner import RunnerService
    except ImportError:  # the runner package is not built in this tree
        log.warning("runner: not available in this build")
        return
    runner = RunnerService(
        slots=settings.runner_slots, queue_size=settings.runner_queue, sandbox=settings.sandbox
    )
    await runner.start()
    if not runner.sandboxed:
        log.warning(
            "runner: NO SANDBOX: %s. Learner code runs with this server's rights; "
            "only for a single local user.",
            runner.sandbox_description,
        )
    app.state.runner = runner
    from questlab.grading.judge.bank import GradingBank

    app.state.grading_bank = GradingBank(runner)


async def stop_runner(app: FastAPI) -> None:
    """Stop the runner if it runs."""
    runner = app.state.runner
    bank = getattr(app.state, "grading_bank", None)
    if bank is not None:
        await bank.close()
        app.state.grading_bank = None
    if runner is not None:
        await runner.close()
        app.state.runner = None
