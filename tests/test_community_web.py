"""The community part over HTTP (SQLite and PostgreSQL): API shapes, permissions per role, CSRF, pages."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from questlab.community import notify
from questlab.db import Database
from questlab.settings import Settings
from tests.community_helpers import LESSON_API, LESSON_PAGE, client_for, member

pytestmark = pytest.mark.anyio


@pytest.fixture
async def app(settings: Settings, database_url: str) -> AsyncIterator[FastAPI]:
    from questlab.web.app import create_app

    db = Database(database_url)
    application = create_app(
        settings.model_copy(update={"database_url": database_url, "comments_per_minute": 50}), database=db
    )
    async with application.router.lifespan_context(application):
        yield application
    db.dispose()


async def test_post_reply_list_shape(app: FastAPI):
    async with member(app, "ana") as ana, member(app, "ben") as ben:
        first = await ana.comment("Why does **forward** run?")
        reply = await ben.comment("Because `__call__` calls it", parent_id=first)
        async with client_for(app) as visitor:
            data = (await visitor.get(LESSON_API + "comments")).json()
    assert data["count"] == 2 and data["page"] == 1 and data["pages"] == 1 and data["sort"] == "newest"
    assert data["subscribed"] is None
    top, answer = data["comments"]
    assert {"id", "parent_id", "author", "body_html", "created_at"} <= set(top)
    assert top["id"] == first and top["parent_id"] is None and top["author"]["display_name"] == "Ana"
    assert top["body_html"] == "<p>Why does <strong>forward</strong> run?</p>\n"
    assert answer["id"] == reply and answer["parent_id"] == first and answer["depth"] == 1
    assert "<code>__call__</code>" in answer["body_html"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", top["created_at"])


async def test_signed_out_visitors_read_but_cannot_write(app: FastAPI):
    async with member(app, "ana") as ana:
        comment_id = await ana.comment("hello")
    async with client_for(app) as visitor:
        await visitor.get("/")
        headers = {"X-CSRF-Token": visitor.cookies["questlab_csrf"]}
        assert (
            await visitor.post(LESSON_API + "comments", json={"body": "x"}, headers=headers)
        ).status_code == 401
        assert (await visitor.put(LESSON_API + "subscription", headers=headers)).status_code == 401
        assert (
            await visitor.put(f"/api/comments/{comment_id}", json={"body": "x"}, headers=headers)
        ).status_code == 401
        assert (await visitor.get("/api/notifications")).status_code == 401
        assert (await visitor.get("/api/admin/reports")).status_code == 401
        page = (await visitor.get(LESSON_PAGE)).text
    assert "hello" in page and "data-comment-form" not in page and "signin-prompt" in page


async def test_state_changes_need_csrf(app: FastAPI):
    async with member(app, "ana") as ana:
        response = await ana.http.post(LESSON_API + "comments", json={"body": "no token"})
        assert response.status_code == 403
        response = await ana.http.put(LESSON_API + "subscription", headers={"X-CSRF-Token": "forged"})
        assert response.status_code == 403


async def test_edit_delete_and_permissions(app: FastAPI):
    async with member(app, "ana") as ana, member(app, "ben") as ben, member(app, "mod", "moderator") as mod:
        first = await ana.comment("original")
        reply = await ben.comment("reply", parent_id=first)
        assert (await ben.put(f"/api/comments/{first}", {"body": "mine now"})).status_code == 403
        edited = await ana.put(f"/api/comments/{first}", {"body": "original, fixed"})
        assert edited.status_code == 200 and edited.json()["comment"]["edited"] is True
        assert (await ben.delete(f"/api/comments/{first}")).status_code == 403
        assert (await ana.delete(f"/api/comments/{first}")).json() == {"id": first, "deleted": True}
        assert (await ana.delete(f"/api/comments/{first}")).status_code == 404
        assert (await mod.delete(f"/api/comments/{reply}")).status_code == 200
        listed = (await ana.http.get(LESSON_API + "comments")).json()
    assert [c["id"] for c in listed["comments"]] == [first, reply] and listed["count"] == 0
    assert all(c["deleted"] and c["body_html"] == "" for c in listed["comments"])


@pytest.mark.parametrize(
    "role,may_hide,sees_hidden",
    [("learner", False, False), ("author", False, True), ("moderator", True, True), ("admin", True, True)],
)
async def test_hiding_per_role(app: FastAPI, role: str, may_hide: bool, sees_hidden: bool):
    async with (
        member(app, "ana") as ana,
        member(app, "someone", role) as other,
        member(app, "mod", "moderator") as mod,
    ):
        comment_id = await ana.comment("something rude")
        response = await other.post(f"/api/comments/{comment_id}/hide", {"hidden": True})
        assert response.status_code == (200 if may_hide else 403)
        if not may_hide:
            assert (await mod.post(f"/api/comments/{comment_id}/hide", {"hidden": True})).status_code == 200
        (item,) = (await other.http.get(LESSON_API + "comments")).json()["comments"]
        assert item["hidden"] is True
        assert ("something rude" in item["body_html"]) is sees_hidden
        page = (await other.http.get(LESSON_PAGE)).text
        assert ("something rude" in page) is sees_hidden
        assert 'class="comment depth-0 is-hidden"' in page
        (for_writer,) = (await ana.http.get(LESSON_API + "comments")).json()["comments"]
        assert for_writer["body_html"] == ""


@pytest.mark.parametrize(
    "role,allowed", [("learner", False), ("author", False), ("moderator", True), ("admin", True)]
)
async def test_suspension_per_role(app: FastAPI, role: str, allowed: bool):
    async with member(app, "ana") as ana, member(app, "judge", role) as judge:
        response = await judge.post(f"/api/users/{ana.id}/suspend", {"suspended": True, "reason": "spam"})
        assert response.status_code == (200 if allowed else 403)
        posted = await ana.post(LESSON_API + "comments", {"body": "still here?", "parent_id": None})
        assert posted.status_code == (403 if allowed else 201)
        if allowed:
            assert "suspended" in posted.json()["detail"]
            assert "data-suspended" in (await ana.http.get(LESSON_PAGE)).text
            await judge.post(f"/api/users/{ana.id}/suspend", {"suspended": False})
            assert (await ana.post(LESSON_API + "comments", {"body": "back"})).status_code == 201


async def test_limits_over_http(app: FastAPI):
    app.state.settings = app.state.settings.model_copy(
        update={"comments_per_minute": 2, "comment_max_chars": 20}
    )
    async with member(app, "ana") as ana:
        too_long = await ana.post(LESSON_API + "comments", {"body": "x" * 21})
        assert too_long.status_code == 422 and "limit is 20" in too_long.json()["detail"]
        assert (await ana.post(LESSON_API + "comments", {"body": "one"})).status_code == 201
        duplicate = await ana.post(LESSON_API + "comments", {"body": "one"})
        assert duplicate.status_code == 409
        assert (await ana.post(LESSON_API + "comments", {"body": "two"})).status_code == 201
        limited = await ana.post(LESSON_API + "comments", {"body": "three"})
        assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
        assert (await ana.post(LESSON_API + "comments", {"body": ""})).status_code == 422
        assert (await ana.post("/api/quests/test/basics/nope/comments", {"body": "x"})).status_code == 404


async def test_bell_and_notifications(app: FastAPI):
    async with member(app, "ana") as ana, member(app, "ben") as ben, member(app, "cy") as cy:
        assert (await ana.put(LESSON_API + "subscription")).json() == {"subscribed": True}
        assert (await ana.http.get(LESSON_API + "comments")).json()["subscribed"] is True
        question = await ben.comment("question")
        answer = await cy.comment("answer", parent_id=question)
        ana_notes = (await ana.http.get("/api/notifications")).json()
        assert ana_notes["unread"] == 2 and [n["comment_id"] for n in ana_notes["notifications"]] == [
            answer,
            question,
        ]
        assert (await ben.http.get("/api/notifications")).json()["unread"] == 1  # reply in own thread
        assert (await cy.http.get("/api/notifications")).json()["unread"] == 0  # own reply
        page = (await ana.http.get(LESSON_PAGE)).text
        assert "data-unread-count>2<" in page and 'aria-pressed="true"' in page
        first_id = ana_notes["notifications"][0]["id"]
        assert (await ana.post("/api/notifications/read", {"ids": [first_id]})).json() == {
            "marked": 1,
            "unread": 1,
        }
        assert (await ben.post("/api/notifications/read", {"ids": [first_id]})).json()["marked"] == 0
        listing = (await ana.http.get("/notifications")).text
        assert "answer" in listing and "question" in listing and f"#comment-{answer}" in listing
        assert (await ana.http.get("/api/notifications")).json()["unread"] == 0  # the page marked them read
        assert (await ana.delete(LESSON_API + "subscription")).json() == {"subscribed": False}
        await ben.comment("another question")
        assert (await ana.http.get("/api/notifications")).json()["unread"] == 0


async def test_no_js_comment_form(app: FastAPI):
    async with member(app, "ana") as ana:
        token = ana.http.cookies["questlab_csrf"]
        response = await ana.http.post(
            LESSON_PAGE + "comments", data={"body": "from a form", "csrf_token": token}
        )
        assert response.status_code == 303 and response.headers["location"].startswith(
            LESSON_PAGE + "#comment-"
        )
        forged = await ana.http.post(LESSON_PAGE + "comments", data={"body": "forged", "csrf_token": "x"})
        assert forged.status_code == 403
        page = (await ana.http.get(LESSON_PAGE)).text
    assert "from a form" in page and "forged" not in page


async def test_lesson_page_renders_the_discussion_server_side(app: FastAPI):
    async with member(app, "ana") as ana:
        async with client_for(app) as visitor:
            empty = (await visitor.get(LESSON_PAGE + "?lang=en")).text
        assert "Be the first" in empty and "data-comment-count>0<" in empty
        ids = [await ana.comment(f"comment number {i}") for i in range(3)]
        app.state.settings = app.state.settings.model_copy(update={"comments_per_page": 2})
        async with client_for(app) as visitor:
            newest = (await visitor.get(LESSON_PAGE)).text
            oldest = (await visitor.get(LESSON_PAGE + "?sort=oldest")).text
            second = (await visitor.get(LESSON_PAGE + "?sort=oldest&cpage=2")).text
        page = (await ana.http.get(LESSON_PAGE)).text
    assert "data-comment-count>3<" in newest and "Be the first" not in newest
    assert f'id="comment-{ids[2]}"' in newest and f'id="comment-{ids[0]}"' not in newest
    assert f'id="comment-{ids[0]}"' in oldest and f'id="comment-{ids[2]}"' not in oldest
    assert f'id="comment-{ids[2]}"' in second and "cpage=1" in second
    assert (
        "data-comment-form" in page
        and 'data-action="edit"' in page
        and "<script" not in page.split('id="comments"', 1)[1].replace('<script src="/static/js/', "")
    )


async def test_the_discussion_alone_for_the_open_page(app: FastAPI):
    """``GET <lesson>/comments`` renders the lesson's discussion as the page does, for comments.js."""
    async with member(app, "ana") as ana, member(app, "ben") as ben:
        await ben.put(LESSON_API + "subscription")
        first = await ana.comment("Why **model(x)**?")
        async with client_for(app) as visitor:
            alone = await visitor.get(LESSON_PAGE + "comments?lang=en")
            oldest = (await visitor.get(LESSON_PAGE + "comments?sort=oldest&cpage=1")).text
            missing = await visitor.get("/quests/test/basics/nope/comments")
        assert alone.status_code == 200 and alone.headers["content-type"].startswith("text/html")
        assert alone.headers["cache-control"] == "no-store"
        html = alone.text
        assert (
            html.lstrip().startswith("<section") and "<html" not in html and '<header class="site' not in html
        )
        assert f'id="comment-{first}"' in html and "<strong>model(x)</strong>" in html
        assert "data-comment-count>1<" in html and "Comments" in html and "data-unread" not in html
        assert f'data-refresh="{LESSON_PAGE}comments"' in html and 'data-sort="oldest"' in oldest
        assert missing.status_code == 404
        # Signed in: the viewer's own actions, and the header's unread count.
        bens = (await ben.http.get(LESSON_PAGE + "comments")).text
        assert 'data-unread="1"' in bens and "data-comment-form" in bens
        assert 'data-action="edit"' not in bens  # Ana's comment
        before = re.search(rf'id="comment-{first}"[^>]*data-state="([^"]*)"', bens)
        assert before is not None
        await ana.put(f"/api/comments/{first}", {"body": "Why **model(x)**, really?"})
        after = re.search(
            rf'id="comment-{first}"[^>]*data-state="([^"]*)"',
            (await ana.http.get(LESSON_PAGE + "comments")).text,
        )
        assert after is not None and after.group(1) != before.group(1)  # an edit changes the state


async def test_notifications_come_in_pages_of_50(app: FastAPI):
    from questlab.community import comments
    from questlab.community.common import LessonRef
    from questlab.db.models import User

    lesson = LessonRef("test", "basics", "first", title="First lesson", url=LESSON_PAGE)
    async with member(app, "ana") as ana, member(app, "ben") as ben:
        await ana.put(LESSON_API + "subscription")
        with app.state.db.session() as session:
            writer = session.get(User, ben.id)
            for number in range(62):
                comments.post_comment(
                    session, writer, lesson, f"note number {number}", limits=comments.Limits(per_minute=1000)
                )
        first = (await ana.http.get("/api/notifications")).json()
        second = (await ana.http.get("/api/notifications?page=2")).json()
        past = (await ana.http.get("/api/notifications?page=3")).json()
        assert (first["page"], first["pages"], first["total"], first["unread"]) == (1, 2, 62, 62)
        assert len(first["notifications"]) == 50 and first["notifications"][0]["excerpt"] == "note number 61"
        assert [n["excerpt"] for n in second["notifications"]] == [
            f"note number {n}" for n in range(11, -1, -1)
        ]
        assert past["notifications"] == [] and past["page"] == 3

        page_one = (await ana.http.get("/notifications")).text
        assert page_one.count("data-notification=") == 50 and "note number 61" in page_one
        assert 'href="/notifications?page=2"' in page_one and "data-newer" not in page_one
        assert "2쪽 중 1쪽" in page_one  # Korean, the default locale
        assert (await ana.http.get("/api/notifications")).json()["unread"] == 12  # the page marked its 50
        page_two = (await ana.http.get("/notifications?page=2")).text
        assert page_two.count("data-notification=") == 12 and "note number 0<" in page_two
        assert 'href="/notifications?page=1"' in page_two and "data-older" not in page_two
        assert (await ana.http.get("/api/notifications")).json()["unread"] == 0
        assert (await ana.http.get("/notifications?page=x")).text.count("data-notification=") == 50
        assert (await ana.http.get("/notifications?page=99")).text.count("data-notification=") == 12


async def test_reports_api_and_triage(app: FastAPI):
    async with (
        member(app, "ana") as ana,
        member(app, "writer", "author") as author,
        member(app, "boss", "admin") as admin,
        member(app, "mod", "moderator") as mod,
    ):
        async with client_for(app) as visitor:
            await visitor.get("/")
            headers = {"X-CSRF-Token": visitor.cookies["questlab_csrf"]}
            anon = await visitor.post(
                LESSON_API + "reports", json={"category": "typo", "message": "teh"}, headers=headers
            )
            assert anon.status_code == 201 and anon.json()["status"] == "open"
            bot = await visitor.post(
                LESSON_API + "reports",
                json={"category": "typo", "message": "spam", "website": "http://spam"},
                headers=headers,
            )
            assert bot.status_code == 201 and bot.json()["id"] is None
            bad = await visitor.post(
                LESSON_API + "reports", json={"category": "nope", "message": "x"}, headers=headers
            )
            assert bad.status_code == 422
            no_csrf = await visitor.post(LESSON_API + "reports", json={"category": "typo", "message": "x"})
            assert no_csrf.status_code == 403
        mine = await ana.post(
            LESSON_API + "reports", {"category": "code-does-not-run", "message": "error", "code_block": 0}
        )
        assert mine.status_code == 201
        for who in (ana, mod):
            assert (await who.http.get("/api/admin/reports")).status_code == 403
            assert (
                await who.post(f"/api/admin/reports/{mine.json()['id']}/resolve", {"note": "x"})
            ).status_code == 403
        listed = (await author.http.get("/api/admin/reports")).json()["reports"]
        assert [r["message"] for r in listed] == ["error", "teh"]
        assert (
            listed[0]["reporter"] == "Ana" and listed[1]["reporter"] is None and listed[0]["code_block"] == 0
        )
        resolved = await admin.post(f"/api/admin/reports/{anon.json()['id']}/resolve", {"note": "fixed"})
        assert resolved.json() == {"id": anon.json()["id"], "status": "resolved", "resolution_note": "fixed"}
        still_open = (
            await author.http.get("/api/admin/reports?status=open&quest=test&lesson=basics/first")
        ).json()
        assert [r["id"] for r in still_open["reports"]] == [mine.json()["id"]]
        quest_map = (await author.http.get("/quests/test/")).text
        assert 'data-report-count="1"' in quest_map
        assert "data-report-count" not in (await ana.http.get("/quests/test/")).text
        triage = (await admin.http.get("/admin/reports")).text
        assert "error" in triage and "teh" not in triage  # open ones by default
        assert (await mod.http.get("/admin/reports")).status_code == 403


async def test_report_form_page(app: FastAPI):
    async with client_for(app) as visitor:
        form = await visitor.get(LESSON_PAGE + "report?lang=en")
        assert form.status_code == 200 and 'name="website"' in form.text and "Code does not run" in form.text
        token = visitor.cookies["questlab_csrf"]
        sent = await visitor.post(
            LESSON_PAGE + "report",
            data={
                "category": "wrong-explanation",
                "message": "the count is off",
                "code_block": "1",
                "csrf_token": token,
            },
        )
        assert sent.status_code == 200 and "data-report-sent" in sent.text
        honeypot = await visitor.post(
            LESSON_PAGE + "report",
            data={"category": "typo", "message": "buy pills", "website": "x", "csrf_token": token},
        )
        assert "data-report-sent" in honeypot.text
        empty = await visitor.post(
            LESSON_PAGE + "report", data={"category": "typo", "message": " ", "csrf_token": token}
        )
        assert empty.status_code == 422 and "data-report-error" in empty.text
        forged = await visitor.post(LESSON_PAGE + "report", data={"category": "typo", "message": "x"})
        assert forged.status_code == 403
    async with member(app, "boss", "admin") as admin:
        listed = (await admin.http.get("/api/admin/reports")).json()["reports"]
        assert [(r["category"], r["code_block"]) for r in listed] == [("wrong-explanation", 0)]
        triage = await admin.http.get("/admin/reports")
        assert "the count is off" in triage.text
        done = await admin.http.post(
            f"/admin/reports/{listed[0]['id']}/resolve",
            data={
                "note": "rewrote it",
                "csrf_token": admin.http.cookies["questlab_csrf"],
                "back": "status=open",
            },
        )
        assert done.status_code == 303
        assert "rewrote it" in (await admin.http.get("/admin/reports?status=resolved")).text


async def test_anonymous_reports_are_rate_limited(app: FastAPI):
    app.state.settings = app.state.settings.model_copy(update={"reports_per_hour": 2})
    async with client_for(app) as visitor:
        await visitor.get("/")
        headers = {"X-CSRF-Token": visitor.cookies["questlab_csrf"]}
        codes = [
            (
                await visitor.post(
                    LESSON_API + "reports", json={"category": "other", "message": f"m{i}"}, headers=headers
                )
            ).status_code
            for i in range(3)
        ]
    assert codes == [201, 201, 429]


async def test_unsubscribe_link(app: FastAPI):
    async with member(app, "ana") as ana:
        assert (await ana.put("/api/notifications/email", {"enabled": True})).json() == {"email": True}
        token = notify.unsubscribe_token(app.state.secret_key, ana.id)
        async with client_for(app) as mail_client:  # the link works without a session
            assert (await mail_client.get(f"/unsubscribe/{ana.id}.forged")).status_code == 404
            assert (await mail_client.get(f"/unsubscribe/{token}")).status_code == 200
        assert (await ana.http.get("/api/notifications")).json()["email"] is False
        await ana.put("/api/notifications/email", {"enabled": True})
        async with client_for(app) as mail_client:  # RFC 8058 one-click POST from the mail program
            response = await mail_client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
            assert response.status_code == 200
        assert (await ana.http.get("/api/notifications")).json()["email"] is False


async def test_a_comment_counts_as_progress(app: FastAPI):
    async with member(app, "ana") as ana:
        await ana.comment("my first comment")
        state = (await ana.http.get("/api/me/progress")).json()
    assert '"comments": 1' in json.dumps(state)  # the progress engine counted the comment
