"""Browser fixtures: the real app under uvicorn on 127.0.0.1, and real Chromium through Playwright.

Reuse them for any journey::

    @pytest.mark.browser
    def test_something(live_server: str, browser):
        page = browser.new_context().new_page()
        page.goto(live_server + "/")

Override ``live_settings`` in a test module to serve other settings (another quests folder, a runner).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from questlab.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


@pytest.fixture
def live_server(live_settings: Settings) -> Iterator[str]:
    """Serve the app with uvicorn in a background thread; yield its base URL (``http://127.0.0.1:<port>``)."""
    import uvicorn

    from questlab.web.app import create_app

    port = free_port()
    app = create_app(live_settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"}))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # the runner warms up after the start (seconds on a busy machine)
    while not server.started or runner_warming(app):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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
