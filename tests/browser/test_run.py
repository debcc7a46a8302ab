"""In real Chromium: Run a lesson code block, edit it, run it again; see output, time and module explorer."""

from __future__ import annotations

import pytest

from questlab.settings import REPO_DIR, Settings

pytestmark = pytest.mark.browser


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    """The bundled PyTorch quest with the real runner (bubblewrap when available)."""
    return settings.model_copy(update={"quests_dir": REPO_DIR / "quests", "runner_enabled": True})


def test_run_edit_and_run_again(live_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = browser.new_context().new_page()
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
    editor.fill(
        "import torch\nfrom torch import nn\nnet = nn.Linear(3, 2)\nprint('edited', net.weight.shape)\n"
    )
    run.click()
    expect(output.locator("pre.stdout")).to_have_text("edited torch.Size([2, 3])\n", timeout=30_000)
    expect(output.locator("[data-module-explorer] summary").first).to_contain_text("net Linear")
    figure.locator("[data-reset]").click()
    assert "edited" not in editor.input_value()
    # the exercise editor mounted, and nothing on the page broke the Content-Security-Policy
    expect(page.locator("[data-exercise-editor] .cm-content")).to_contain_text("class MLP")
    assert console_errors == []


def test_visitor_pass_and_runs_count_in_the_strip(live_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    """A visitor runs a block and passes the exercise, which completes the lesson: the strip's XP grows at
    once and survives a reload."""
    from playwright.sync_api import expect

    from tests.browser.test_editor import set_code

    page = browser.new_context().new_page()
    page.goto(live_server + "/quests/pytorch/networks/nn-module/?lang=en")
    xp = page.locator('[data-progress-strip] [data-field="xp"]')
    expect(xp).to_have_text("0")
    page.locator("figure.code-block[data-runnable] [data-run]").first.click()
    expect(xp).to_have_text("6", timeout=30_000)  # a code run (1) on a first active day (5)
    page.wait_for_selector("[data-exercise-editor] .cm-editor")
    solution = (REPO_DIR / "quests/pytorch/02-networks/01-nn-module/exercise/solution.py").read_text()
    set_code(page, solution)
    page.click("[data-action=submit]")
    page.wait_for_selector(".results-pass", timeout=30_000)
    expect(xp).to_have_text("101", timeout=10_000)  # + exercise 50 + first-try bonus 25 + the lesson 20
    page.reload()
    expect(xp).to_have_text("101", timeout=10_000)
