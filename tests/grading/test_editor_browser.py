"""The exercise editor in real Chromium: type, Ctrl+Enter runs, Submit a mistake and a solution, reload."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from questlab.settings import Settings
from tests.grading.conftest import EXERCISE, REPO

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LESSON = "/quests/pytorch/networks/nn-module/?lang=en"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from questlab.db import upgrade
    from questlab.web.app import create_app

    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp / 'db.sqlite3'}"
    upgrade(url)
    app = create_app(Settings(data_dir=tmp / "data", quests_dir=REPO / "quests", database_url=url,
                              runner_enabled=True, sandbox="auto", secret_key="browser-secret"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.started, "the test server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def set_code(page, code: str) -> None:  # type: ignore[no-untyped-def]
    """Replace the editor's text the way a learner would: select all, delete, paste."""
    content = page.locator("[data-exercise-editor] .cm-content")
    content.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.evaluate("""(text) => {
        const data = new DataTransfer();
        data.setData("text/plain", text);
        document.querySelector("[data-exercise-editor] .code-editor-host").shadowRoot
            .querySelector(".cm-content").dispatchEvent(
            new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
    }""", code)


def test_editor_run_submit_and_draft(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        runs: list[dict] = []

        def fake_run(route):  # type: ignore[no-untyped-def]
            # /api/run belongs to another part; answer in its shape and record what was sent.
            runs.append({"body": json.loads(route.request.post_data or "{}"),
                         "csrf": route.request.headers.get("x-csrf-token")})
            route.fulfill(json={"version": 1, "status": "ok", "stdout": "hello from run\n", "stderr": ""})

        page.route("**/api/run", fake_run)
        page.goto(server + LESSON)
        page.wait_for_selector("[data-exercise-editor] .cm-editor")
        assert "class MLP(nn.Module)" in page.inner_text("[data-exercise-editor] .cm-content")

        # Typing goes into CodeMirror; Ctrl+Enter runs the code.
        set_code(page, "")
        page.keyboard.type("print('hello from run')")
        page.keyboard.press("Control+Enter")
        page.wait_for_selector("[data-run-output]:not([hidden])")
        assert "hello from run" in page.inner_text("[data-run-output]")
        assert runs and runs[-1]["body"]["code"].startswith("print('hello from run')")
        assert runs[-1]["csrf"], "Run must send the X-CSRF-Token header"

        # Submit a mistake: its diagnosis shows.
        set_code(page, (FIXTURES / "plain_list" / "submission.py").read_text())
        page.click("[data-action=submit]")
        page.wait_for_selector(".results-summary")
        assert "nn.ModuleList" in page.inner_text("[data-results]")
        assert page.locator(".check-fail").count() > 0

        # Submit the solution: every check passes.
        solution = (EXERCISE / "solution.py").read_text()
        set_code(page, solution)
        page.click("[data-action=submit]")
        page.wait_for_selector(".results-pass")
        assert page.locator(".check-pass").count() == 9 and page.locator(".check-fail").count() == 0

        # Reload: the draft is still there.
        set_code(page, "# my draft\n" + solution)
        page.reload()
        page.wait_for_selector("[data-exercise-editor] .cm-editor")
        assert page.inner_text("[data-exercise-editor] .cm-content").startswith("# my draft")

        # Hints come one at a time; reset brings the starter back.
        assert page.locator("[data-hint]:visible").count() == 0
        page.click("[data-action=next-hint]")
        assert page.locator("[data-hint]:visible").count() == 1
        page.click("[data-action=reset]")
        assert "TODO" in page.inner_text("[data-exercise-editor] .cm-content")
        assert not errors, errors
        browser.close()
