"""The discussion in real Chromium: bell, comment, reply, unread count, notifications; report and triage."""

from __future__ import annotations

import pytest

from questlab.settings import Settings

pytestmark = pytest.mark.browser
LESSON = "/quests/test/basics/first/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    """The test quest in English, with Ana and Ben (learners) and Root (admin) signed up."""
    from questlab.accounts.service import create_user
    from questlab.db import Database

    db = Database(settings.resolved_database_url())
    with db.session() as session:
        create_user(session, "ana@example.com", PASSWORD, display_name="Ana")
        create_user(session, "ben@example.com", PASSWORD, display_name="Ben")
        create_user(session, "root@example.com", PASSWORD, display_name="Root", role="admin")
    db.dispose()
    return settings.model_copy(update={"default_locale": "en"})


def watch(page, errors: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Collect script errors, CSP refusals and failed requests of ``page`` into ``errors``.

    Failed requests are caught by URL, so the console's generic "Failed to load resource" adds nothing.
    """

    def console(message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error" and "Failed to load" not in message.text:
            errors.append(message.text)

    def response(answer) -> None:  # type: ignore[no-untyped-def]
        if answer.status >= 400:
            errors.append(f"{answer.status} {answer.url}")

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", console)
    page.on("response", response)


def sign_in(browser, base: str, email: str):  # type: ignore[no-untyped-def]
    """A new context signed in as ``email`` through the sign-in form; returns (context, page, errors)."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    watch(page, errors)
    page.goto(f"{base}/login?next={LESSON}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-auth-form] button[type=submit]")
    page.wait_for_url(f"{base}{LESSON}*")
    return context, page, errors


def test_bell_comment_reply_notification_report_and_triage(live_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    server = live_server
    # Ana turns the bell on and comments.
    ana_context, ana, ana_errors = sign_in(browser, server, "ana@example.com")
    bell = ana.locator("button[data-bell]")
    expect(bell).to_have_attribute("aria-pressed", "false")
    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "true")
    ana.fill("[data-comment-form] textarea[name=body]", "Why call **model(x)** and not forward?")
    ana.click("[data-comment-form] button[type=submit]")
    expect(ana.locator(".comment-body strong", has_text="model(x)")).to_be_visible()
    expect(ana.locator("[data-comment-count]")).to_have_text("1")

    # Ben replies to it.
    ben_context, ben, ben_errors = sign_in(browser, server, "ben@example.com")
    first = ben.locator("[data-comment-id]").first
    first.locator("[data-action=reply]").click()
    reply_form = first.locator("[data-comment-form]")
    reply_form.locator("textarea[name=body]").fill("Because `__call__` runs the hooks.")
    reply_form.locator("button[type=submit]").click()
    expect(ben.locator(".comment.depth-1 code", has_text="__call__")).to_be_visible()

    # Ana sees the unread count and the notification.
    ana.goto(f"{server}{LESSON}")
    expect(ana.locator("[data-unread-count]")).to_have_text("1")
    ana.click("[data-notifications-link]")
    expect(ana.locator("[data-notification]")).to_have_count(1)
    expect(ana.locator("[data-notification]")).to_contain_text("Ben")
    expect(ana.locator("[data-notification]")).to_contain_text("runs the hooks")
    ana.goto(f"{server}{LESSON}")
    expect(ana.locator("[data-unread-count]")).to_have_count(0)  # read now

    # A signed-out visitor reports a problem.
    visitor_context = browser.new_context(locale="en-US")
    visitor = visitor_context.new_page()
    visitor_errors: list[str] = []
    watch(visitor, visitor_errors)
    visitor.goto(f"{server}{LESSON}")
    expect(visitor.locator("[data-comment-form]")).to_have_count(0)
    expect(visitor.locator(".signin-prompt")).to_be_visible()
    visitor.click("[data-report-link]")
    visitor.check("input[name=category][value=code-does-not-run]")
    visitor.select_option("select[name=code_block]", "1")
    visitor.fill("textarea[name=message]", "The first block prints 3, not 2.")
    visitor.click("form.stack button[type=submit]")
    expect(visitor.locator("[data-report-sent]")).to_be_visible()

    # The admin resolves it.
    admin_context, admin, admin_errors = sign_in(browser, server, "root@example.com")
    admin.goto(f"{server}/quests/test/")
    expect(admin.locator("[data-report-count]")).to_have_text("1 open report")
    admin.goto(f"{server}/admin/reports")
    item = admin.locator("[data-report]", has_text="prints 3, not 2")
    expect(item).to_contain_text("anonymous visitor")
    item.locator("input[name=note]").fill("Fixed the expected output.")
    item.locator("[data-resolve]").click()
    expect(admin.locator("[data-report]")).to_have_count(0)  # no open reports left
    admin.goto(f"{server}/admin/reports?status=resolved")
    expect(admin.locator("[data-resolved]")).to_contain_text("Fixed the expected output.")

    assert ana_errors == [] and ben_errors == [] and visitor_errors == [] and admin_errors == []
    for context in (ana_context, ben_context, visitor_context, admin_context):
        context.close()
