"""In real Chromium: press Run on a lesson code block, edit it, run again, see output, time and module explorer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from questlab.db import upgrade
from questlab.settings import REPO_DIR, Settings

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app (runner on) served by uvicorn in a thread; yields its base URL."""
    from questlab.web.app import create_app

    tmp: Path = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{tmp / 'db.sqlite3'}"
    upgrade(url)
    app = create_app(Settings(data_dir=tmp, database_url=url, quests_dir=REPO_DIR / "quests", secret_key="s"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        assert time.time() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def test_run_edit_and_run_again(live_server: str):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        console_errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
        page.goto(live_server + "/quests/pytorch/networks/nn-module/?lang=en")
        figure = page.locator("figure.code-block[data-runnable]").first
        run = figure.locator("[data-run]")
        expect(run).to_be_visible()
        run.click()
        output = figure.locator(".run-output")
        expect(output.locator("[data-run-status]")).to_have_attribute("data-run-status", "ok", timeout=30_000)
        expect(output.locator("[data-run-status]")).to_contain_text(" ms")
        expect(output.locator("[data-module-explorer]")).to_be_visible()
        expect(output.locator("[data-module-explorer] summary").first).to_contain_text("parameters")
        editor = figure.locator("textarea.code-editor")
        expect(editor).to_be_visible()
        editor.fill("import torch\nfrom torch import nn\nnet = nn.Linear(3, 2)\nprint('edited', net.weight.shape)\n")
        run.click()
        expect(output.locator("pre.stdout")).to_have_text("edited torch.Size([2, 3])\n", timeout=30_000)
        expect(output.locator("[data-module-explorer] summary").first).to_contain_text("net Linear")
        figure.locator("[data-reset]").click()
        assert "edited" not in editor.input_value()
        # the exercise editor mounted, and nothing on the page broke the Content-Security-Policy
        expect(page.locator("[data-exercise-editor] .cm-content")).to_contain_text("class MLP")
        assert console_errors == []
        browser.close()
