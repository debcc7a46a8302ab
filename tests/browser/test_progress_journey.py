"""The progress journey in real Chromium: a visitor completes a lesson and passes its exercise, the strip
updates at once, a reload keeps it, signing up merges it, and a second browser sees the same numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from questlab.progress.tokens import sign_exercise_pass

pytestmark = pytest.mark.browser

LESSON = "/quests/test/basics/first/?lang=en"


def strip_value(page, field: str) -> str:
    return page.locator(f'[data-progress-strip] [data-field="{field}"]').first.inner_text()


def wait_for_field(page, field: str, value: str) -> None:
    page.wait_for_function(
        "([field, value]) => { const el = document.querySelector("
        "'[data-progress-strip] [data-field=\"' + field + '\"]');"
        " return el && el.textContent.trim() === value; }",
        arg=[field, value],
        timeout=10_000,
    )


def test_visitor_progress_follows_the_learner_after_sign_up(live_server: str, browser, settings):
    errors: list[str] = []
    first = browser.new_context(timezone_id="Asia/Seoul", locale="en-US")
    page = first.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(live_server + LESSON)
    assert strip_value(page, "xp") == "0"
    assert page.locator("[data-local-only]").is_visible()  # the "local only" notice
    button = page.locator("[data-mark-done]")
    button.click()
    wait_for_field(page, "lessons_done", "1")
    wait_for_field(page, "xp", "25")  # lesson 20 + first active day 5
    wait_for_field(page, "achievements_done", "1")
    assert page.locator("[data-toast]").first.inner_text().endswith("First lesson")
    assert button.is_disabled()

    # The grading endpoint hands the browser a signed pass; the page keeps it with its local progress.
    token = sign_exercise_pass(settings.secret_key, "test", "basics/first", True, datetime.now(UTC))
    page.evaluate("token => window.questlab.progress.exercisePassed('test', token)", token)
    wait_for_field(page, "xp", "100")  # + exercise 50 + first-try bonus 25

    page.reload()
    wait_for_field(page, "xp", "100")
    assert strip_value(page, "lessons_done") == "1" and page.locator("[data-mark-done]").is_disabled()
    page.goto(live_server + "/quests/test/")
    page.wait_for_selector('li[data-lesson="basics/first"] [data-done-mark]:not([hidden])')
    assert page.locator('li[data-lesson="basics/second"] [data-done-mark]').is_hidden()

    # Signing up merges the browser's progress into the new account.
    page.goto(live_server + "/signup?lang=en&next=" + LESSON.replace("?", "%3F").replace("=", "%3D"))
    page.fill('input[name="email"]', "journey@example.com")
    page.fill('input[name="display_name"]', "Journey")
    page.fill('input[name="password"]', "correct horse")
    page.click('form[data-auth-form] button[type="submit"]')
    page.wait_for_url("**/quests/test/basics/first/**")
    assert page.locator("[data-account-link]").inner_text() == "Journey"
    wait_for_field(page, "xp", "100")
    page.reload()  # now rendered by the server from the account
    assert strip_value(page, "xp") == "100" and strip_value(page, "lessons_done") == "1"
    assert strip_value(page, "achievements_done") == "1"  # the test quest declares one
    first.close()

    # A second browser signs in and sees the same numbers.
    second = browser.new_context(timezone_id="Europe/Berlin", locale="en-US")
    other = second.new_page()
    other.on("pageerror", lambda error: errors.append(str(error)))
    other.goto(live_server + "/login?lang=en&next=/quests/test/")
    other.fill('input[name="email"]', "journey@example.com")
    other.fill('input[name="password"]', "correct horse")
    other.click('form[data-auth-form] button[type="submit"]')
    other.wait_for_url("**/quests/test/")
    assert strip_value(other, "xp") == "100" and strip_value(other, "lessons_done") == "1"
    assert other.locator('li[data-lesson="basics/first"] [data-done-mark]').is_visible()
    other.goto(live_server + "/me?lang=en")
    assert other.locator("[data-me-xp]").inner_text() == "100"
    assert other.locator('[data-achievement="first-lesson"]').get_attribute("data-unlocked") == "true"
    second.close()
    # every failed request is caught by URL above, so the console's generic "Failed to load resource"
    # adds nothing.
    errors = [e for e in errors if not e.startswith("Failed to load resource")]
    assert errors == [], errors
