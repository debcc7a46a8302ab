"""The lesson page as a new learner meets it, in real Chromium, in ko and en, on a desktop and a phone:
a pass completes the lesson and celebrates it (XP, level up, achievements stacked, never over Run and
Submit), the next lesson comes into view, the phone header stays one line, the keyboard shortcut is
said next to Run, nothing breaks the Content-Security-Policy, and the home and quest pages say where
the learner stands before and after signing up."""

from __future__ import annotations

import json

import pytest

from questlab.settings import REPO_DIR, Settings
from tests.browser.test_editor import _sign_up_in, set_code

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SOLUTION = REPO_DIR / "quests/pytorch/02-networks/01-nn-module/exercise/solution.py"


def watch_console(page, errors: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Collect page errors, console errors and Content-Security-Policy violations into ``errors``."""
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.sourceFile"
        " + ':' + e.lineNumber + ' ' + e.sample), true);"
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))


def wait_for_lessons(page, done: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until the status strip says ``done`` lessons are done."""
    page.wait_for_function(
        "n => document.querySelector('[data-progress-strip] [data-field=lessons_done]').textContent === n",
        arg=str(done),
        timeout=10_000,
    )


def csp_errors(errors: list[str]) -> list[str]:
    return [e for e in errors if "Content Security Policy" in e or "Content-Security-Policy" in e]


def box(page, selector: str) -> dict:  # type: ignore[no-untyped-def]
    return page.locator(selector).first.bounding_box()


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def toast_boxes(page) -> list[dict]:  # type: ignore[no-untyped-def]
    return [t.bounding_box() for t in page.locator("[data-toast]").all()]


def assert_toasts_clear_of_the_buttons(page) -> None:  # type: ignore[no-untyped-def]
    """Toasts never sit on each other, nor on Run or Submit."""
    toasts = toast_boxes(page)
    for i, a in enumerate(toasts):
        for b in toasts[i + 1 :]:
            assert not overlap(a, b), ("toasts stacked on one spot", a, b)
    for button in ("[data-action=run]", "[data-action=submit]"):
        for t in toasts:
            assert not overlap(t, box(page, button)), (button, t, box(page, button))


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    """The bundled PyTorch quest with the real runner and grading."""
    return settings.model_copy(update={"quests_dir": REPO_DIR / "quests", "runner_enabled": True})


@pytest.mark.parametrize(
    ("lang", "viewport", "signed_in"),
    [("ko", PHONE, False), ("en", DESKTOP, True), ("en", PHONE, True), ("ko", DESKTOP, False)],
    ids=["ko-phone-visitor", "en-desktop-signed-in", "en-phone-signed-in", "ko-desktop-visitor"],
)
def test_a_pass_completes_the_lesson_and_celebrates(
    live_server: str, browser, lang: str, viewport: dict, signed_in: bool
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport, locale="ko-KR" if lang == "ko" else "en-US")
    page = context.new_page()
    errors: list[str] = []
    watch_console(page, errors)
    lesson = f"/quests/pytorch/networks/nn-module/?lang={lang}"
    page.goto(live_server + lesson)
    tensors = ["tensors/creating-tensors", "tensors/dtypes"]
    if signed_in:
        _sign_up_in(page, live_server, f"pass-{lang}-{viewport['width']}@example.com")
        page.evaluate(
            """async (lessons) => {
            const token = document.cookie.match(/questlab_csrf=([^;]+)/)[1];
            await fetch("/api/progress/sync", {method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRF-Token": decodeURIComponent(token)},
                body: JSON.stringify({quests: {pytorch: {lessons_completed: lessons}}})});
        }""",
            tensors,
        )
    else:  # two lessons done earlier in this browser
        record = {"device": "b-test", "quests": {"pytorch": {"lessons_completed": tensors}}, "cache": {}}
        page.evaluate("r => localStorage.setItem('questlab.progress.v1', JSON.stringify(r))", record)
    page.reload()
    strip = page.locator("[data-progress-strip]")
    wait_for_lessons(page, 2)
    assert strip.locator('[data-field="level"]').inner_text() == "0"
    assert page.locator("[data-mark-done]").count() == 0  # the exercise completes this lesson
    note = page.locator("[data-completion-note]")
    assert note.is_visible() and note.get_attribute("data-done") is None
    page.wait_for_selector("[data-exercise-editor] .cm-editor")

    # Ctrl/Cmd+Enter is said next to Run, in the page's language.
    hint = page.locator("[data-shortcut-hint]")
    assert hint.is_visible() and "Ctrl" in hint.inner_text() and "Enter" in hint.inner_text()
    assert ("로 코드 실행" if lang == "ko" else "runs the code") in hint.inner_text()
    assert abs(box(page, "[data-shortcut-hint]")["y"] - box(page, "[data-action=run]")["y"]) < 80

    # A run first: its output must not stay above the submission's results.
    set_code(page, "print('old run output')\n")
    page.click("[data-action=run]")
    page.wait_for_function(
        "() => document.querySelector('[data-run-output]').innerText.includes('old run output')",
        timeout=30_000,
    )
    assert page.locator("[data-action=next-hint]").is_visible()
    set_code(page, SOLUTION.read_text())
    page.click("[data-action=submit]")
    page.wait_for_selector(".results-pass", timeout=30_000)
    assert page.locator("[data-run-output]").is_hidden()
    assert "old run output" not in page.inner_text("[data-exercise]")
    assert page.locator("[data-action=next-hint]").is_hidden()  # nothing left to hint at

    # The strip counts the lesson without a reload: 3 of N lessons, a percentage, XP and a new level.
    wait_for_lessons(page, 3)
    total = int(strip.locator('[data-field="lessons_total"]').inner_text())
    assert strip.locator('[data-field="percent"]').inner_text() == str(100 * 3 // total)
    # 2 lessons 40 + day 5 before; the pass: exercise 50 + first try 25 + the lesson 20, and its run 1
    assert int(strip.locator('[data-field="xp"]').inner_text()) >= 135
    assert strip.locator('[data-field="level"]').inner_text() == "1"
    assert note.get_attribute("data-done") == ""
    mark = page.locator('[data-chapter-toc] li[data-lesson="networks/nn-module"] [data-done-mark]')
    assert mark.get_attribute("hidden") is None  # the chapter's list (closed) marks it done
    assert page.locator("[data-chapter-toc] [data-chapter-done]").inner_text() == "1"

    # Celebration: the XP the pass added, the new level, the achievements; stacked, clear of the buttons.
    page.wait_for_selector("[data-toast=xp]")
    page.wait_for_selector("[data-toast=level]")
    xp_toast = page.locator("[data-toast=xp]").inner_text()
    assert xp_toast.startswith("+") and xp_toast.endswith("XP")
    gained = int(xp_toast.strip("+ XP"))
    assert gained >= 95 and f"+{gained} XP" in page.inner_text(".results-summary")  # the badge agrees
    assert ("레벨 업" if lang == "ko" else "Level up") in page.locator("[data-toast=level]").inner_text()
    assert page.locator("[data-toast=achievement]").count() >= 2  # first pass, first try
    assert_toasts_clear_of_the_buttons(page)

    # The next lesson comes into view.
    link = page.locator("[data-next-lesson]")
    assert link.get_attribute("href") == "/quests/pytorch/networks/parameters-and-buffers/"
    page.wait_for_function(
        "() => { const r = document.querySelector('[data-next-lesson]').getBoundingClientRect();"
        " return r.height > 0 && r.top >= -1 && r.bottom <= window.innerHeight + 1; }",
        timeout=5_000,
    )
    if viewport is PHONE:
        # However the learner scrolls while toasts show, they keep away from Run and Submit.
        for block in ("end", "start", "center"):
            page.evaluate(
                "b => document.querySelector('[data-exercise-actions]').scrollIntoView({block: b})", block
            )
            page.wait_for_timeout(50)
            assert_toasts_clear_of_the_buttons(page)

    # It stays done after a reload, and (signed in) the profile lists it.
    page.reload()
    wait_for_lessons(page, 3)
    assert page.locator("[data-next-step]").is_visible()
    if signed_in:
        page.goto(live_server + f"/me?lang={lang}")
        assert page.locator('[data-done-lesson="networks/nn-module"]').count() == 1
        assert page.locator('[data-xp-chart="day"]').is_visible()  # one active day: a column, not a line
    assert csp_errors(errors) == [], errors
    assert errors == [], errors
    context.close()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_lesson_pages_keep_the_content_security_policy(live_server: str, browser, lang: str) -> None:  # type: ignore[no-untyped-def]
    """No inline style or script on lesson pages: a visitor and a signed-in learner, desktop and phone."""
    errors: list[str] = []
    for viewport in (DESKTOP, PHONE):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        watch_console(page, errors)
        for path in ("/quests/pytorch/networks/nn-module/", "/quests/pytorch/tensors/creating-tensors/"):
            page.goto(f"{live_server}{path}?lang={lang}")
            page.wait_for_selector("[data-exercise-editor] .cm-editor")
            page.locator("[data-chapter-toc] summary").click()
            page.locator("[data-exercise-editor] .cm-content").click()
            page.keyboard.type("x = 1\n")
        _sign_up_in(page, live_server, f"csp-{lang}-{viewport['width']}@example.com")
        page.reload()
        page.wait_for_selector("[data-exercise-editor] .cm-editor")
        context.close()
    assert csp_errors(errors) == [], errors


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_phone_header_is_one_compact_line(live_server: str, browser, lang: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/quests/pytorch/networks/nn-module/?lang={lang}")
    _sign_up_in(page, live_server, f"header-{lang}@example.com")
    page.reload()
    assert page.locator("[data-signout]").is_visible()
    height = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
    assert height <= 60, height
    # Each item's words are laid out on one line: no "questl/ab", no "로그/아웃".
    lines = page.evaluate(
        """() => [".brand", ".lang-switch", ".nav-account", ".nav-signout button"].map(selector => {
            const el = document.querySelector(selector);
            const range = document.createRange();
            range.selectNodeContents(el);
            const rects = [...range.getClientRects()].filter(r => r.width > 0);
            const tops = new Set(rects.map(r => Math.round(r.top)));
            return [selector, tops.size, el.textContent.trim()];
        })"""
    )
    for selector, count, text in lines:
        assert count == 1, (selector, text, count)
    context.close()


def test_home_and_quest_page_say_where_the_learner_stands_and_sign_up_welcomes(
    live_server: str, browser
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    watch_console(page, errors)
    page.goto(live_server + "/?lang=en")
    start = page.locator("[data-continue]").first
    assert start.get_attribute("data-state") == "start"
    first_url = json.loads(start.get_attribute("data-lessons"))[0]["url"]
    assert start.get_attribute("href") == first_url

    # A visitor has finished the quest's first lesson in this browser.
    page.goto(live_server + "/quests/pytorch/tensors/creating-tensors/?lang=en")
    record = {"device": "b-home", "quests": {"pytorch": {"lessons_completed": ["tensors/creating-tensors"]}}}
    page.evaluate("r => localStorage.setItem('questlab.progress.v1', JSON.stringify(r))", record)
    for path in ("/?lang=en", "/quests/pytorch/?lang=en"):
        page.goto(live_server + path)
        link = page.locator("[data-continue]").first
        page.wait_for_function(
            "() => document.querySelector('[data-continue]').getAttribute('data-state') === 'continue'"
        )
        assert link.get_attribute("href") == "/quests/pytorch/tensors/dtypes/"
        assert "Continue where you left off" in link.inner_text()
        assert page.locator('[data-progress-strip] [data-field="lessons_done"]').first.inner_text() == "1"

    # Signing up carries the local progress; the first page welcomes and says what was merged.
    page.goto(live_server + "/signup?lang=en")
    page.fill('input[name="email"]', "home@example.com")
    page.fill('input[name="display_name"]', "Grace")
    page.fill('input[name="password"]', "correct horse")
    page.click('form[data-auth-form] button[type="submit"]')
    page.wait_for_url(live_server + "/")
    welcome = page.locator("[data-welcome]")
    assert welcome.is_visible()
    assert "Welcome, Grace" in welcome.inner_text() and "(1 lesson, 25 XP)" in welcome.inner_text()
    card = page.locator("[data-quest-card]").first
    assert card.locator('[data-field="lessons_done"]').inner_text() == "1"
    assert card.locator("[data-continue]").get_attribute("href") == "/quests/pytorch/tensors/dtypes/"
    page.reload()
    assert page.locator("[data-welcome]").count() == 0  # once

    # Inside a lesson, the chapter's lessons are at hand with their done marks.
    page.goto(live_server + "/quests/pytorch/tensors/dtypes/?lang=en")
    toc = page.locator("[data-chapter-toc]")
    toc.locator("summary").click()
    done = toc.locator('li[data-lesson="tensors/creating-tensors"] [data-done-mark]')
    assert done.is_visible()
    assert toc.locator('li[data-lesson="tensors/dtypes"] a').get_attribute("aria-current") == "page"
    assert toc.locator('li[data-lesson="tensors/shapes"] [data-done-mark]').is_hidden()
    assert errors == [], errors
    context.close()
