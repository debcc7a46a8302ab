"""Community services on SQLite and PostgreSQL: comments, threads, moderation, notifications, reports."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from questlab.community import comments, notify, reports
from questlab.community.common import LessonRef
from questlab.community.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from questlab.db import Database
from questlab.db.models import Notification, OutboxEmail, User

LESSON = LessonRef("test", "basics", "first", title="First lesson", url="/quests/test/basics/first/")
OTHER = LessonRef("test", "basics", "second")
MAILING = notify.Mailing("http://example.test", "secret")


@pytest.fixture
def db(database_url: str):
    database = Database(database_url)
    yield database
    database.dispose()


def make_users(db: Database, *roles: str) -> list[User]:
    with db.session() as session:
        users = [
            User(
                email=f"{role}{i}@example.com",
                display_name=f"{role.title()} {i}",
                password_hash="x",
                role=role,
            )
            for i, role in enumerate(roles)
        ]
        session.add_all(users)
    return users


def test_post_reply_list_and_shape(db: Database):
    ana, ben = make_users(db, "learner", "learner")
    with db.session() as s:
        first = comments.post_comment(s, ana, LESSON, "First *question*")
        second = comments.post_comment(s, ben, LESSON, "Second thread")
        reply = comments.post_comment(s, ben, LESSON, "A reply", parent_id=first.id)
        nested = comments.post_comment(s, ana, LESSON, "Reply to the reply", parent_id=reply.id)
    with db.session() as s:
        newest = comments.list_comments(s, LESSON, None)
        oldest = comments.list_comments(s, LESSON, None, sort="oldest")
    assert [c["id"] for c in newest.comments] == [second.id, first.id, reply.id, nested.id]
    assert [c["id"] for c in oldest.comments] == [first.id, reply.id, nested.id, second.id]
    by_id = {c["id"]: c for c in newest.comments}
    assert by_id[nested.id]["parent_id"] == reply.id and by_id[nested.id]["depth"] == 2
    assert by_id[nested.id]["thread_id"] == first.id
    assert by_id[first.id]["body_html"] == "<p>First <em>question</em></p>\n"
    assert by_id[first.id]["author"] == {"id": ana.id, "display_name": "Learner 0"}
    assert newest.count == 4 and newest.pages == 1
    assert by_id[first.id]["created_at"].endswith("Z")


def test_pagination_of_threads(db: Database):
    (ana,) = make_users(db, "learner")
    with db.session() as s:
        ids = [
            comments.post_comment(s, ana, LESSON, f"comment {i}", limits=comments.Limits(per_minute=100)).id
            for i in range(5)
        ]
    with db.session() as s:
        page1 = comments.list_comments(s, LESSON, None, sort="oldest", per_page=2)
        page3 = comments.list_comments(s, LESSON, None, sort="oldest", per_page=2, page=3)
        beyond = comments.list_comments(s, LESSON, None, sort="oldest", per_page=2, page=99)
    assert [c["id"] for c in page1.comments] == ids[:2] and page1.pages == 3
    assert [c["id"] for c in page3.comments] == ids[4:] and beyond.page == 3


def test_edit_and_delete_keep_the_thread(db: Database):
    ana, ben, mod = make_users(db, "learner", "learner", "moderator")
    with db.session() as s:
        root = comments.post_comment(s, ana, LESSON, "root")
        reply = comments.post_comment(s, ben, LESSON, "reply", parent_id=root.id)
    with db.session() as s:
        with pytest.raises(Forbidden):
            comments.edit_comment(s, ben, root.id, "hijack")
    with db.session() as s:
        comments.edit_comment(s, ana, root.id, "root, **edited**")
    with db.session() as s:
        with pytest.raises(Forbidden):
            comments.delete_comment(s, ben, root.id)
    with db.session() as s:
        comments.delete_comment(s, ana, root.id)
        comments.delete_comment(s, mod, reply.id)  # a moderator may delete any comment
    with db.session() as s:
        listed = comments.list_comments(s, LESSON, ana).comments
        with pytest.raises(NotFound):
            comments.edit_comment(s, ana, root.id, "again")
    assert [c["id"] for c in listed] == [root.id, reply.id]
    assert listed[0]["deleted"] and listed[0]["body_html"] == "" and listed[0]["author"] is None
    assert listed[1]["parent_id"] == root.id and listed[1]["deleted"]


def test_edited_flag(db: Database):
    (ana,) = make_users(db, "learner")
    with db.session() as s:
        root = comments.post_comment(s, ana, LESSON, "typo teh")
        comments.edit_comment(s, ana, root.id, "typo the")
    with db.session() as s:
        (item,) = comments.list_comments(s, LESSON, None).comments
    assert item["edited"] and item["edited_at"] and "typo the" in item["body_html"]


@pytest.mark.parametrize("role", ["learner", "author"])
def test_only_moderators_hide_and_suspend(db: Database, role: str):
    ana, other = make_users(db, "learner", role)
    with db.session() as s:
        root = comments.post_comment(s, ana, LESSON, "spam")
    with db.session() as s:
        with pytest.raises(Forbidden):
            comments.hide_comment(s, other, root.id)
        with pytest.raises(Forbidden):
            comments.suspend_user(s, other, ana.id)


def test_hidden_comments_are_greyed_for_staff_only(db: Database):
    ana, ben, author, mod, admin = make_users(db, "learner", "learner", "author", "moderator", "admin")
    with db.session() as s:
        root = comments.post_comment(s, ana, LESSON, "rude words")
        comments.hide_comment(s, mod, root.id)
    with db.session() as s:
        for viewer in (None, ana, ben):
            (item,) = comments.list_comments(s, LESSON, viewer).comments
            assert item["hidden"] and item["body_html"] == "" and item["author"] is None
        for viewer in (author, mod, admin):
            (item,) = comments.list_comments(s, LESSON, viewer).comments
            assert item["hidden"] and "rude words" in item["body_html"]
        assert comments.visible_count(s, LESSON) == 0
        with pytest.raises(Forbidden):
            comments.post_comment(s, ben, LESSON, "reply to hidden", parent_id=root.id)
        with pytest.raises(Forbidden):
            comments.edit_comment(s, ana, root.id, "sneaky edit")
    with db.session() as s:
        comments.hide_comment(s, admin, root.id, hidden=False)
    with db.session() as s:
        assert comments.visible_count(s, LESSON) == 1


def test_suspension(db: Database):
    ana, mod, mod2, admin = make_users(db, "learner", "moderator", "moderator", "admin")
    with db.session() as s:
        comments.suspend_user(s, mod, ana.id, reason="spam")
    with db.session() as s:
        with pytest.raises(Forbidden, match="suspended"):
            comments.post_comment(s, ana, LESSON, "let me in")
        with pytest.raises(Forbidden):
            comments.suspend_user(s, mod, mod2.id)
        with pytest.raises(Forbidden):
            comments.suspend_user(s, mod, mod.id)
        comments.suspend_user(s, admin, mod2.id)
    with db.session() as s:
        comments.suspend_user(s, mod, ana.id, suspended=False)
    with db.session() as s:
        comments.post_comment(s, ana, LESSON, "back again")


def test_limits_length_rate_duplicate(db: Database):
    (ana,) = make_users(db, "learner")
    limits = comments.Limits(max_chars=50, per_minute=3)
    with db.session() as s:
        with pytest.raises(Invalid):
            comments.post_comment(s, ana, LESSON, "   \n ", limits=limits)
        with pytest.raises(Invalid, match="limit is 50"):
            comments.post_comment(s, ana, LESSON, "x" * 51, limits=limits)
        comments.post_comment(s, ana, LESSON, "x" * 50, limits=limits)
    with db.session() as s:
        with pytest.raises(Conflict):
            comments.post_comment(s, ana, LESSON, "x" * 50, limits=limits)
        comments.post_comment(s, ana, OTHER, "x" * 50, limits=limits)  # the same text elsewhere is fine
        comments.post_comment(s, ana, LESSON, "two", limits=limits)
    with db.session() as s:
        with pytest.raises(RateLimited):
            comments.post_comment(s, ana, LESSON, "four", limits=limits)


def test_reply_to_a_comment_of_another_lesson_is_refused(db: Database):
    (ana,) = make_users(db, "learner")
    with db.session() as s:
        elsewhere = comments.post_comment(s, ana, OTHER, "elsewhere")
        with pytest.raises(NotFound):
            comments.post_comment(s, ana, LESSON, "reply", parent_id=elsewhere.id)
        with pytest.raises(NotFound):
            comments.post_comment(s, ana, LESSON, "reply", parent_id=999999)


def notified(db: Database, user: User) -> list[int]:
    with db.session() as s:
        return [n.comment_id for n in s.scalars(select(Notification).where(Notification.user_id == user.id))]


def test_notifications_go_to_the_right_people_only(db: Database):
    bell, writer, replier, bystander, elsewhere = make_users(db, *["learner"] * 5)
    with db.session() as s:
        notify.subscribe(s, bell.id, LESSON)
        notify.subscribe(s, bell.id, LESSON)  # idempotent
        notify.subscribe(s, elsewhere.id, OTHER)
        root = comments.post_comment(s, writer, LESSON, "question", mailing=MAILING)
        other_thread = comments.post_comment(s, bystander, LESSON, "unrelated thread", mailing=MAILING)
        reply = comments.post_comment(s, replier, LESSON, "answer", parent_id=root.id, mailing=MAILING)
        own = comments.post_comment(s, writer, LESSON, "thanks", parent_id=reply.id, mailing=MAILING)
    assert notified(db, bell) == [root.id, other_thread.id, reply.id, own.id]
    assert notified(db, writer) == [reply.id]  # thread subscription from writing; not for own comment
    assert notified(db, replier) == [own.id]  # replying subscribed the replier to the thread
    assert notified(db, bystander) == []  # their thread got no replies
    assert notified(db, elsewhere) == []
    with db.session() as s:
        assert s.scalars(select(OutboxEmail)).all() == []  # nobody opted in to email
        assert notify.unread_count(s, bell.id) == 4
        items = notify.list_notifications(s, bell.id)
        assert items[0]["comment_id"] == own.id and items[0]["kind"] == "reply" and not items[0]["read"]
        assert items[0]["url"].endswith(f"/quests/test/basics/first/#comment-{own.id}")
        assert notify.mark_read(s, bell.id, [items[0]["id"]]) == 1
        assert notify.unread_count(s, bell.id) == 3
        assert notify.mark_read(s, writer.id, [items[1]["id"]]) == 0  # not theirs
        assert notify.mark_read(s, bell.id) == 3 and notify.unread_count(s, bell.id) == 0


def test_bell_off_stops_notifications(db: Database):
    bell, writer = make_users(db, "learner", "learner")
    with db.session() as s:
        notify.subscribe(s, bell.id, LESSON)
        assert notify.is_subscribed(s, bell.id, LESSON)
        notify.unsubscribe(s, bell.id, LESSON)
        assert not notify.is_subscribed(s, bell.id, LESSON)
        comments.post_comment(s, writer, LESSON, "hello")
    assert notified(db, bell) == []


def test_emails_are_queued_for_those_who_opted_in(db: Database):
    keen, quiet, writer = make_users(db, "learner", "learner", "learner")
    with db.session() as s:
        notify.set_email_replies(s, keen.id, True)
        notify.subscribe(s, keen.id, LESSON)
        notify.subscribe(s, quiet.id, LESSON)
        comment = comments.post_comment(s, writer, LESSON, "hello **all**", mailing=MAILING)
    with db.session() as s:
        (email,) = s.scalars(select(OutboxEmail)).all()
    assert email.to_address == keen.email and "First lesson" in email.subject
    assert f"http://example.test/quests/test/basics/first/#comment-{comment.id}" in email.body
    token = notify.unsubscribe_token("secret", keen.id)
    assert f"http://example.test/unsubscribe/{token}" in email.body
    assert notify.read_unsubscribe_token("secret", token) == keen.id
    assert notify.read_unsubscribe_token("other-secret", token) is None
    assert notify.read_unsubscribe_token("secret", f"{quiet.id}.{token.split('.')[1]}") is None
    assert notify.read_unsubscribe_token("secret", "garbage") is None


def test_reports_filing_rate_limit_and_triage(db: Database):
    ana, author, admin, mod = make_users(db, "learner", "author", "admin", "moderator")

    def file(s, lesson=LESSON, category="typo", message="x", code_block=None, user=None, code_blocks=1):
        return reports.file_report(
            s,
            lesson,
            category=category,
            message=message,
            code_block=code_block,
            user=user,
            client="h1",
            code_blocks=code_blocks,
            per_hour=2,
        )

    with db.session() as s:
        with pytest.raises(Invalid):
            file(s, category="bogus")
        with pytest.raises(Invalid):
            file(s, message="  ")
        with pytest.raises(Invalid):
            file(s, code_block=1)
        first = file(s, message="teh", code_block=0)
        file(s, OTHER, category="other", message="hmm", code_blocks=0)
        with pytest.raises(RateLimited):
            file(s, message="again")
        file(s, category="code-does-not-run", message="boom", user=ana)
    with db.session() as s:
        for who in (None, ana, mod):
            with pytest.raises(Forbidden):
                reports.list_reports(s, who)
            with pytest.raises(Forbidden):
                reports.resolve_report(s, who, first.id, "done")
        assert len(reports.list_reports(s, author)) == 3
        assert len(reports.list_reports(s, admin, lesson="basics/first")) == 2
        assert reports.open_counts(s, "test") == {"basics/first": 2, "basics/second": 1}
        reports.resolve_report(s, author, first.id, "fixed the typo")
        with pytest.raises(NotFound):
            reports.resolve_report(s, author, 999999, "x")
    with db.session() as s:
        resolved = reports.list_reports(s, admin, status="resolved", quest="test")
        assert [r["id"] for r in resolved] == [first.id]
        assert resolved[0]["resolution_note"] == "fixed the typo" and resolved[0]["resolved_by"] == "Author 1"
        assert reports.open_counts(s, "test") == {"basics/first": 1, "basics/second": 1}
        assert [
            r["reporter"] for r in reports.list_reports(s, admin, status="open", lesson="basics/first")
        ] == ["Learner 0"]


def test_migration_0004_creates_the_community_tables_and_goes_back(database_url: str):
    from alembic import command

    from questlab.db.core import alembic_config, upgrade

    db = Database(database_url)
    try:
        assert {
            "member_standing",
            "subscriptions",
            "notifications",
            "email_outbox",
            "problem_reports",
        } <= set(db.table_names())
        command.downgrade(alembic_config(database_url), "0003")
        assert "problem_reports" not in db.table_names()
        upgrade(database_url)
        assert db.is_current()
    finally:
        db.dispose()
