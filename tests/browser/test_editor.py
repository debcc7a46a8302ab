"""The exercise editor in real Chromium: type, Ctrl+Enter runs, Submit a mistake and a solution, reload."""

from __future__ import annotations

import json

import pytest

from questlab.grading.judge.grade import load_checks
from questlab.settings import Settings
from tests.grading.conftest import EXERCISE, REPO

pytestmark = pytest.mark.browser
LESSON = "/quests/pytorch/networks/nn-module/?lang=en"


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    """The bundled PyTorch quest with the real runner and grading."""
    return settings.model_copy(update={"quests_dir": REPO / "quests", "runner_enabled": True})


def set_code(page, code: str) -> None:  # type: ignore[no-untyped-def]
    """Replace the editor's text the way a learner would: select all, delete, paste."""
    content = page.locator("[data-exercise-editor] .cm-content")
    content.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.evaluate(
        """(text) => {
        const data = new DataTransfer();
        data.setData("text/plain", text);
        document.querySelector("[data-exercise-editor] .code-editor-host").shadowRoot
            .querySelector(".cm-content").dispatchEvent(
            new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
    }""",
        code,
    )


def test_editor_run_submit_and_draft(live_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    runs: list[dict] = []
    page.on(
        "request",
        lambda request: (
            request.url.endswith("/api/run")
            and runs.append(
                {"body": json.loads(request.post_data or "{}"), "csrf": request.headers.get("x-csrf-token")}
            )
        ),
    )
    page.goto(live_server + LESSON)
    page.wait_for_selector("[data-exercise-editor] .cm-editor")
    assert "class MLP(nn.Module)" in page.inner_text("[data-exercise-editor] .cm-content")

    # Typing goes into CodeMirror; Ctrl+Enter runs the code.
    set_code(page, "")
    page.keyboard.type("print('hello from run')")
    page.keyboard.press("Control+Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-run-output]').innerText.includes('hello from run')",
        timeout=30_000,
    )
    assert runs and runs[-1]["body"]["code"].startswith("print('hello from run')")
    assert runs[-1]["csrf"], "Run must send the X-CSRF-Token header"
    # The run renders like a lesson block's: status with the time, stdout in its own block.
    output = page.locator("[data-run-output]")
    assert "hello from run" in output.locator("pre.stdout").inner_text()
    assert output.locator("[data-run-status=ok]").inner_text().endswith(" ms")

    # A traceback shows as stderr; a model built by the code shows in the module explorer.
    set_code(page, "print('before')\nraise ValueError('boom')")
    page.click("[data-action=run]")
    page.wait_for_selector("[data-run-output] [data-run-status=error]", timeout=30_000)
    assert "before" in output.locator("pre.stdout").inner_text()
    assert "ValueError: boom" in output.locator("pre.stderr").inner_text()
    set_code(page, (EXERCISE / "solution.py").read_text())
    page.click("[data-action=run]")
    page.wait_for_selector("[data-run-output] [data-module-explorer]", timeout=30_000)
    assert "MLP" in output.locator("[data-module-explorer]").inner_text()

    # Submit a mistake: its diagnosis shows.
    set_code(page, (EXERCISE / "mistakes" / "layers-in-a-plain-list.py").read_text())
    page.click("[data-action=submit]")
    page.wait_for_selector(".results-summary", timeout=30_000)
    assert "nn.ModuleList" in page.inner_text("[data-results]")
    assert page.locator(".check-fail").count() > 0
    # Backticked code in a message is a <code> element, not raw backticks.
    message = page.locator(".check-fail .check-message").first
    assert "nn.ModuleList" in message.locator("code").all_inner_texts()
    assert "`" not in page.inner_text("[data-results] .check-list")

    # Submit the solution: every check passes.
    solution = (EXERCISE / "solution.py").read_text()
    set_code(page, solution)
    page.click("[data-action=submit]")
    page.wait_for_selector(".results-pass", timeout=30_000)
    checks = len(load_checks((EXERCISE / "checks.py").read_text()))
    assert page.locator(".check-pass").count() == checks and page.locator(".check-fail").count() == 0

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


def _sign_up_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    """Sign up through the page's own fetch (session cookie in the browser context)."""
    status = page.evaluate(
        """async ([email]) => {
        const token = document.cookie.match(/questlab_csrf=([^;]+)/)[1];
        const r = await fetch("/api/auth/signup", {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": decodeURIComponent(token)},
            body: JSON.stringify({email, password: "correct horse"})});
        return r.status;
    }""",
        [email],
    )
    assert status == 201


def test_history_reopens_a_submission_and_the_draft_follows_to_another_device(
    live_server: str, browser
) -> None:  # type: ignore[no-untyped-def]
    first = browser.new_context()
    page = first.new_page()
    page.goto(live_server + LESSON)
    _sign_up_in(page, live_server, "history-browser@example.com")
    page.reload()
    page.wait_for_selector("[data-exercise-actions]:not([hidden])")
    mistake = (EXERCISE / "mistakes" / "relu-after-last-layer.py").read_text()
    set_code(page, mistake)
    page.click("[data-action=submit]")
    page.wait_for_selector(".results-summary", timeout=30_000)
    assert "relu" in page.inner_text("[data-results]").lower()

    # The history lists it; opening it puts its code back and shows what it got.
    set_code(page, "print('something else')\n")
    page.click("[data-history] summary")
    page.wait_for_selector("[data-history-list] [data-open-submission]", timeout=10_000)
    assert "relu-after-last-layer" in page.inner_text("[data-history-list]")
    page.click("[data-history-list] [data-open-submission]")
    page.wait_for_function(
        "() => document.querySelector('[data-exercise-editor] .code-editor-host')"
        ".shadowRoot.querySelector('.cm-content').innerText.includes('self.act(self.fc3(x))')",
        timeout=10_000,
    )
    assert page.locator(".check-fail").count() > 0

    # Typing keeps a draft on the server; a second device signed in to the account opens it.
    set_code(page, "# on my laptop\nprint('draft from the first device')\n")
    page.wait_for_timeout(2500)  # the draft is pushed 1.5 s after the last change
    second = browser.new_context()
    other = second.new_page()
    other.goto(live_server + LESSON)
    other.evaluate(
        """async () => {
        const token = document.cookie.match(/questlab_csrf=([^;]+)/)[1];
        await fetch("/api/auth/login", {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": decodeURIComponent(token)},
            body: JSON.stringify({email: "history-browser@example.com", password: "correct horse"})});
    }"""
    )
    other.reload()
    other.wait_for_function(
        "() => document.querySelector('[data-exercise-editor] .code-editor-host')"
        ".shadowRoot.querySelector('.cm-content').innerText.includes('draft from the first device')",
        timeout=10_000,
    )
    first.close()
    second.close()
