"""Browser fixtures: the real app under uvicorn on 127.0.0.1, and real Chromium through Playwright.

Reuse them for any journey::

    @pytest.mark.browser
    def test_something(live_server: str, browser):
        page = browser.new_context().new_page()
        page.goto(live_server + "/")

Override ``live_settings`` in a test module to serve other settings (another quests folder, a runner).
:func:`serve` starts a server for fixtures of a wider scope.

When a browser test fails, a screenshot of every page still open and the log of every server still
running are written to ``test-artifacts/screenshots/`` (``QUESTLAB_TEST_ARTIFACTS`` names another folder).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from questlab.settings import REPO_DIR, Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("QUESTLAB_TEST_ARTIFACTS", REPO_DIR / "test-artifacts"))
SCREENSHOTS = ARTIFACTS / "screenshots"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    """Settings of the served app: by default the test quest, SQLite and no runner."""
    return settings


def runner_warming(app: object) -> bool:
    """Whether the app's runner is still starting (pages answer then; Run answers 503)."""
    task = getattr(app.state, "runner_task", None)  # type: ignore[attr-defined]
    return task is not None and not task.done()


class ServerLog(logging.Handler):
    """What one served app logged, and one line per request it answered (method, path, status, time)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.stopped = False
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def wrap(self, app):  # type: ignore[no-untyped-def]
        """``app`` behind an ASGI layer that notes each HTTP request in this log."""

        async def logged(scope, receive, send):  # type: ignore[no-untyped-def]
            if scope["type"] != "http":
                return await app(scope, receive, send)
            started = time.monotonic()
            status: list[int] = []

            async def noting(message):  # type: ignore[no-untyped-def]
                if message["type"] == "http.response.start":
                    status.append(message["status"])
                await send(message)

            try:
                await app(scope, receive, noting)
            finally:
                query = scope.get("query_string", b"").decode()
                path = scope["path"] + (f"?{query}" if query else "")
                elapsed = (time.monotonic() - started) * 1000
                code = status[0] if status else "no answer"
                self.lines.append(
                    f"{time.strftime('%H:%M:%S')} {scope['method']} {path} -> {code} ({elapsed:.0f} ms)"
                )

        return logged


SERVER_LOGS: list[ServerLog] = []
"""Logs of the servers running now and of those that stopped during the current test."""
LOGGERS = ("questlab", "uvicorn", "uvicorn.error")


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Serve the app of ``settings`` with uvicorn in a background thread; yield its base URL.

    Waits until the runner (when enabled) has started. The app's log and its requests are kept for
    the failure report.
    """
    import uvicorn

    from questlab.web.app import create_app

    port = free_port()
    app = create_app(settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"}))
    log = ServerLog()
    server = uvicorn.Server(
        uvicorn.Config(log.wrap(app), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    questlab_logger = logging.getLogger("questlab")
    level = questlab_logger.level
    questlab_logger.setLevel(logging.INFO)
    for name in LOGGERS:
        logging.getLogger(name).addHandler(log)
    SERVER_LOGS.append(log)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120  # the runner warms up after the start (seconds on a busy machine)
        while not server.started or runner_warming(app):
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start:\n" + "\n".join(log.lines))
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        log.stopped = True
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(log)
        questlab_logger.setLevel(level)


@pytest.fixture
def live_server(live_settings: Settings) -> Iterator[str]:
    """Serve the app with uvicorn in a background thread; yield its base URL (``http://127.0.0.1:<port>``)."""
    with serve(live_settings) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Chromium (the system's ``/usr/bin/chromium``), shared by one module's browser tests.

    Module scope, not session: Playwright's sync API runs an event loop on the main thread while it is
    open, and the in-process async tests that run after the browser tests need that thread's loop free.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save a full-page screenshot of ``page`` as ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    """Keep each phase's report on the test item, for :func:`failure_artifacts`."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session", autouse=True)
def fresh_failure_artifacts() -> None:
    """Remove the failure artifacts of an earlier run, so the folder shows this run's failures only."""
    for old in SCREENSHOTS.glob("failed-*"):
        old.unlink()


@pytest.fixture(autouse=True)
def failure_artifacts(request: pytest.FixtureRequest) -> Iterator[None]:
    """When a browser test fails: a screenshot of each open page and the servers' logs, under
    ``test-artifacts/screenshots/failed-<test>-*``."""
    SERVER_LOGS[:] = [log for log in SERVER_LOGS if not log.stopped]
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    name = "failed-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if "browser" in request.fixturenames:
        chromium = request.getfixturevalue("browser")
        pages = [page for context in chromium.contexts for page in context.pages]
        for number, page in enumerate(pages, 1):
            try:
                page.screenshot(
                    path=str(SCREENSHOTS / f"{name}-page{number}.png"), full_page=True, timeout=10_000
                )
                (SCREENSHOTS / f"{name}-page{number}.url").write_text(page.url + "\n")
            except Exception as error:  # a crashed or closing page: note it, keep the rest
                (SCREENSHOTS / f"{name}-page{number}.error").write_text(f"{error}\n")
    logs = ["\n".join(log.lines) for log in SERVER_LOGS]
    (SCREENSHOTS / f"{name}-server.log").write_text(
        "\n\n".join(logs) + "\n" if logs else "no server running\n"
    )
