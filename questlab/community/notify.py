"""Reply notifications: subscriptions (the bell), in-app notifications, queued emails, unsubscribe tokens.

Who is notified of a new comment on a lesson:

- everyone whose bell is on for that lesson (a subscription with no thread);
- for a reply, everyone subscribed to its thread (writing in a thread subscribes you to it);

never the comment's writer, and each person once. Those who opted in to email
also get an email, queued in the outbox (:mod:`questlab.community.mail`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from questlab.community.common import LessonRef, iso, standing
from questlab.db.models import Comment, MemberStanding, Notification, OutboxEmail, Subscription, User, utcnow

SECRET_KEY_NAME = "questlab-community"


@dataclass(frozen=True)
class Mailing:
    """What emails need besides the database: the site's public URL and the secret for unsubscribe links."""

    base_url: str
    secret: str


def _sign(secret: str, message: str) -> str:
    digest = hmac.new(f"{SECRET_KEY_NAME}:{secret}".encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def unsubscribe_token(secret: str, user_id: int) -> str:
    """A token that turns off reply emails for ``user_id``, e.g. ``"12.q3Z..."`` (does not expire)."""
    return f"{user_id}.{_sign(secret, f'unsubscribe:{user_id}')}"


def read_unsubscribe_token(secret: str, token: str) -> int | None:
    """The account id a valid unsubscribe token names, or ``None`` for a forged or mangled token."""
    user_part, _, signature = token.partition(".")
    if not user_part.isdigit() or not signature:
        return None
    expected = _sign(secret, f"unsubscribe:{int(user_part)}")
    return int(user_part) if hmac.compare_digest(expected, signature) else None


def _lesson_subscription(session: Session, user_id: int, lesson: LessonRef) -> Subscription | None:
    return session.scalar(
        select(Subscription)
        .where(
            Subscription.user_id == user_id,
            Subscription.quest == lesson.quest,
            Subscription.chapter == lesson.chapter,
            Subscription.lesson == lesson.lesson,
            Subscription.thread_id.is_(None),
        )
        .limit(1)
    )


def is_subscribed(session: Session, user_id: int, lesson: LessonRef) -> bool:
    """Whether ``user_id``'s bell is on for ``lesson``."""
    return _lesson_subscription(session, user_id, lesson) is not None


def subscribe(session: Session, user_id: int, lesson: LessonRef) -> None:
    """Turn the bell on (idempotent)."""
    if _lesson_subscription(session, user_id, lesson) is None:
        session.add(
            Subscription(user_id=user_id, quest=lesson.quest, chapter=lesson.chapter, lesson=lesson.lesson)
        )
        session.flush()


def unsubscribe(session: Session, user_id: int, lesson: LessonRef) -> None:
    """Turn the bell off for ``lesson``: no more notifications from its discussion, threads included."""
    session.execute(
        delete(Subscription).where(
            Subscription.user_id == user_id,
            Subscription.quest == lesson.quest,
            Subscription.chapter == lesson.chapter,
            Subscription.lesson == lesson.lesson,
        )
    )


def subscribe_thread(session: Session, user_id: int, lesson: LessonRef, thread_id: int) -> None:
    """Follow replies in one thread (idempotent)."""
    exists = session.scalar(
        select(Subscription.id)
        .where(Subscription.user_id == user_id, Subscription.thread_id == thread_id)
        .limit(1)
    )
    if exists is None:
        session.add(
            Subscription(
                user_id=user_id,
                quest=lesson.quest,
                chapter=lesson.chapter,
                lesson=lesson.lesson,
                thread_id=thread_id,
            )
        )
        session.flush()


def comment_posted(
    session: Session, comment: Comment, lesson: LessonRef, writer: User, mailing: Mailing | None = None
) -> list[int]:
    """Notify the subscribers of ``comment``'s lesson and thread; subscribe the writer to the thread.

    Emails are queued only when ``mailing`` is given.

    Returns:
        The ids of the accounts notified.
    """
    assert comment.thread_id is not None
    conditions = [
        Subscription.quest == lesson.quest,
        Subscription.chapter == lesson.chapter,
        Subscription.lesson == lesson.lesson,
    ]
    bell = select(Subscription.user_id).where(*conditions, Subscription.thread_id.is_(None))
    recipients = set(session.scalars(bell))
    if comment.parent_id is not None:
        recipients |= set(
            session.scalars(select(Subscription.user_id).where(Subscription.thread_id == comment.thread_id))
        )
    recipients.discard(writer.id)
    subscribe_thread(session, writer.id, lesson, comment.thread_id)
    for user_id in sorted(recipients):
        session.add(
            Notification(
                user_id=user_id, comment_id=comment.id, kind="reply" if comment.parent_id else "comment"
            )
        )
    if recipients and mailing is not None:
        emailed = session.execute(
            select(User.id, User.email)
            .join(MemberStanding, MemberStanding.user_id == User.id)
            .where(
                User.id.in_(recipients),
                MemberStanding.email_replies.is_(True),
                MemberStanding.suspended_at.is_(None),
            )
        ).all()
        for user_id, address in emailed:
            session.add(reply_email(mailing, address, user_id, comment, lesson, writer))
    session.flush()
    return sorted(recipients)


def reply_email(
    mailing: Mailing, address: str, user_id: int, comment: Comment, lesson: LessonRef, writer: User
) -> OutboxEmail:
    """The outbox email about ``comment`` for ``address`` (Korean, then English), with unsubscribe link."""
    link = f"{mailing.base_url.rstrip('/')}{lesson.url}#comment-{comment.id}"
    unsubscribe_url = (
        f"{mailing.base_url.rstrip('/')}/unsubscribe/{unsubscribe_token(mailing.secret, user_id)}"
    )
    excerpt = comment.body if len(comment.body) <= 600 else comment.body[:600] + "…"
    title = lesson.title or f"{lesson.chapter}/{lesson.lesson}"
    body = (
        f"{writer.display_name} 님이 「{title}」 토론에 글을 남겼습니다.\n"
        f'{writer.display_name} wrote in the discussion of "{title}".\n\n'
        f"{excerpt}\n\n"
        f"답글 보기 / Read it: {link}\n\n"
        f"이메일 알림 끄기 / Stop these emails (one click): {unsubscribe_url}\n"
    )
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return OutboxEmail(
        to_address=address,
        subject=f"[questlab] 새 답글 · New reply — {title}"[:300],
        body=body,
        headers_json=json.dumps(headers),
    )


def set_email_replies(session: Session, user_id: int, enabled: bool) -> None:
    """Opt in to (or out of) reply emails."""
    standing(session, user_id).email_replies = enabled


def wants_email(session: Session, user_id: int) -> bool:
    """Whether ``user_id`` opted in to reply emails."""
    row = session.get(MemberStanding, user_id)
    return bool(row and row.email_replies)


def unread_count(session: Session, user_id: int) -> int:
    """Unread notifications of ``user_id``."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


NOTIFICATIONS_PER_PAGE = 50
"""Notifications on one page of ``/notifications`` and one answer of ``GET /api/notifications``."""


def _listed(columns: Any, user_id: int) -> Any:
    """``select(columns)`` over the notifications of ``user_id`` whose comment or submission still
    exists, joined to both."""
    from questlab.db.models import Submission

    return (
        select(columns)
        .select_from(Notification)
        .outerjoin(Comment, Comment.id == Notification.comment_id)
        .outerjoin(Submission, Submission.id == Notification.submission_id)
        .where(Notification.user_id == user_id, or_(Comment.id.is_not(None), Submission.id.is_not(None)))
    )


def notification_count(session: Session, user_id: int) -> int:
    """All notifications of ``user_id`` that :func:`list_notifications` lists, read or not."""
    return session.scalar(_listed(func.count(), user_id)) or 0


def list_notifications(
    session: Session, user_id: int, limit: int = NOTIFICATIONS_PER_PAGE, offset: int = 0
) -> list[dict[str, Any]]:
    """Notifications of ``user_id``, newest first, ``limit`` of them after skipping ``offset``: dicts
    with ``id``, ``kind``, ``read``, ``created_at``, ``comment_id``, ``author`` (display name),
    ``excerpt``, ``quest``, ``chapter``, ``lesson`` and ``url``.

    ``kind`` is ``reply`` or ``comment`` for a comment where they follow replies, ``regrade`` for a
    submission whose result changed when its exercise's checks changed (then ``comment_id`` and
    ``author`` are ``None``, ``status`` is the new result and ``submission_id`` is set).
    """
    from questlab.db.models import Submission

    rows = session.execute(
        _listed(Notification, user_id)
        .add_columns(Comment, User, Submission)
        .outerjoin(User, User.id == Comment.user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    out = []
    for note, comment, author, submission in rows:
        base = {
            "id": note.id,
            "kind": note.kind,
            "read": note.read_at is not None,
            "created_at": iso(note.created_at),
        }
        if comment is None:
            chapter, _, lesson = submission.lesson_key.partition("/")
            out.append(
                {
                    **base,
                    "comment_id": None,
                    "author": None,
                    "excerpt": "",
                    "quest": submission.quest,
                    "chapter": chapter,
                    "lesson": lesson,
                    "status": submission.status,
                    "submission_id": submission.id,
                    "url": f"/quests/{submission.quest}/{submission.lesson_key}/#exercise",
                }
            )
            continue
        gone = comment.deleted_at is not None or comment.hidden
        text = "" if gone else " ".join(comment.body.split())
        out.append(
            {
                **base,
                "comment_id": comment.id,
                "author": None if gone or author is None else author.display_name,
                "excerpt": text if len(text) <= 140 else text[:140] + "…",
                "quest": comment.quest,
                "chapter": comment.chapter,
                "lesson": comment.lesson,
                "url": f"/quests/{comment.quest}/{comment.chapter}/{comment.lesson}/#comment-{comment.id}",
            }
        )
    return out


def submission_regraded(session: Session, submission_id: int, user_id: int) -> None:
    """Tell ``user_id`` that their submission ``submission_id`` has a new result (kind ``regrade``)."""
    session.add(Notification(user_id=user_id, submission_id=submission_id, kind="regrade"))


def mark_read(session: Session, user_id: int, ids: list[int] | None = None) -> int:
    """Mark notifications of ``user_id`` read (all when ``ids`` is ``None``); returns how many changed."""
    statement = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    result = session.execute(statement.values(read_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
