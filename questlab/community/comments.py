"""Comments on lessons: posting, threaded replies, listing, editing, deleting, moderation.

Every function takes the caller's open :class:`~sqlalchemy.orm.Session` (the web
layer opens it through ``app.state.db.session()``) and checks permissions
itself, so no caller can skip a check. Refusals raise
:mod:`questlab.community.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from questlab.community import notify
from questlab.community.common import MODERATOR_ROLES, STAFF_ROLES, LessonRef, is_suspended, iso, standing
from questlab.community.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from questlab.community.markup import render_comment
from questlab.db.models import Comment, MemberStanding, User, utcnow

SORTS = ("newest", "oldest")
DUPLICATE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Limits:
    """Posting limits (from settings): longest body in characters, comments per account per minute."""

    max_chars: int = 5000
    per_minute: int = 5


def _clean_body(body: str, limits: Limits) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise Invalid("A comment cannot be empty: write something before posting.")
    if len(body) > limits.max_chars:
        raise Invalid(
            f"This comment is {len(body)} characters long; the limit is {limits.max_chars}. "
            "Shorten it or split it into two."
        )
    return body


def _check_may_write(session: Session, user: User) -> None:
    if is_suspended(session, user.id):
        raise Forbidden("Your account is suspended from the discussion; you can still read every lesson.")


def post_comment(
    session: Session,
    user: User,
    lesson: LessonRef,
    body: str,
    parent_id: int | None = None,
    limits: Limits = Limits(),
    mailing: notify.Mailing | None = None,
) -> Comment:
    """Post a comment (or a reply when ``parent_id`` is set) as ``user`` and notify subscribers.

    The writer is subscribed to the thread. Notifications, and with ``mailing`` the
    emails to those who opted in, are written in the same transaction.

    Raises:
        Invalid: empty or too long body.
        NotFound: ``parent_id`` is not a comment of this lesson.
        Forbidden: the account is suspended, or the parent is deleted or hidden.
        RateLimited: more than ``limits.per_minute`` comments in the last minute.
        Conflict: the same text was already posted here by this account in the last 24 hours.
    """
    body = _clean_body(body, limits)
    _check_may_write(session, user)
    now = utcnow()
    recent = (
        session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(Comment.user_id == user.id, Comment.created_at > now - timedelta(minutes=1))
        )
        or 0
    )
    if recent >= limits.per_minute:
        raise RateLimited(
            f"You can post {limits.per_minute} comments a minute; wait a moment and try again.",
            retry_after=60,
        )
    duplicate = session.scalar(
        select(Comment.id)
        .where(
            *lesson.where(),
            Comment.user_id == user.id,
            Comment.body == body,
            Comment.deleted_at.is_(None),
            Comment.created_at > now - DUPLICATE_WINDOW,
        )
        .limit(1)
    )
    if duplicate is not None:
        raise Conflict("You already posted this exact comment here.")
    parent = None
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or (parent.quest, parent.chapter, parent.lesson) != (
            lesson.quest,
            lesson.chapter,
            lesson.lesson,
        ):
            raise NotFound(f"There is no comment {parent_id} on this lesson to reply to.")
        if parent.deleted_at is not None or parent.hidden:
            raise Forbidden("This comment was deleted or hidden; it cannot get new replies.")
    comment = Comment(
        quest=lesson.quest,
        chapter=lesson.chapter,
        lesson=lesson.lesson,
        user_id=user.id,
        parent_id=parent_id,
        body=body,
        created_at=now,
    )
    session.add(comment)
    session.flush()
    comment.thread_id = parent.thread_id or parent.id if parent is not None else comment.id
    session.flush()
    notify.comment_posted(session, comment, lesson, writer=user, mailing=mailing)
    return comment


def _own_comment(session: Session, user: User, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        raise NotFound(f"There is no comment {comment_id}.")
    return comment


def edit_comment(
    session: Session, user: User, comment_id: int, body: str, limits: Limits = Limits()
) -> Comment:
    """Replace the body of ``user``'s own comment; it shows as edited.

    Raises:
        NotFound: no such comment, or it was deleted.
        Forbidden: not the writer, the comment is hidden, or the account is suspended.
        Invalid: empty or too long body.
    """
    comment = _own_comment(session, user, comment_id)
    if comment.user_id != user.id:
        raise Forbidden("Only the writer of a comment can edit it.")
    if comment.hidden:
        raise Forbidden("A moderator hid this comment; it cannot be edited.")
    _check_may_write(session, user)
    body = _clean_body(body, limits)
    if body != comment.body:
        comment.body = body
        comment.edited_at = utcnow()
    return comment


def delete_comment(session: Session, user: User, comment_id: int) -> Comment:
    """Delete a comment (its writer, or a moderator): the text goes, the thread keeps its shape.

    Raises:
        NotFound: no such comment, or already deleted.
        Forbidden: neither the writer nor a moderator.
    """
    comment = _own_comment(session, user, comment_id)
    if comment.user_id != user.id and user.role not in MODERATOR_ROLES:
        raise Forbidden("Only the writer of a comment or a moderator can delete it.")
    comment.deleted_at = utcnow()
    comment.body = ""
    return comment


def hide_comment(session: Session, user: User, comment_id: int, hidden: bool = True) -> Comment:
    """Hide (or show again) a comment. Moderators and admins only.

    Raises:
        NotFound: no such comment.
        Forbidden: the account is not a moderator or admin.
    """
    if user.role not in MODERATOR_ROLES:
        raise Forbidden("Only moderators can hide comments.")
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(f"There is no comment {comment_id}.")
    comment.hidden = hidden
    return comment


def suspend_user(
    session: Session, moderator: User, user_id: int, suspended: bool = True, reason: str | None = None
) -> MemberStanding:
    """Suspend (or reinstate) an account: it can no longer comment. Moderators and admins only.

    Raises:
        Forbidden: not a moderator; or a moderator acting on a moderator or admin; or oneself.
        NotFound: no such account.
    """
    if moderator.role not in MODERATOR_ROLES:
        raise Forbidden("Only moderators can suspend accounts.")
    target = session.get(User, user_id)
    if target is None:
        raise NotFound(f"There is no account {user_id}.")
    if target.id == moderator.id:
        raise Forbidden("You cannot suspend your own account.")
    if target.role in MODERATOR_ROLES and moderator.role != "admin":
        raise Forbidden("Only an admin can suspend a moderator or an admin.")
    row = standing(session, user_id)
    row.suspended_at = utcnow() if suspended else None
    row.suspended_reason = (reason or "")[:500] or None if suspended else None
    return row


def visible_count(session: Session, lesson: LessonRef) -> int:
    """Comments on the lesson that every visitor sees (not deleted, not hidden)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(*lesson.where(), Comment.deleted_at.is_(None), Comment.hidden.is_(False))
        )
        or 0
    )


@dataclass
class CommentPage:
    """One page of a lesson's discussion, as shown to one viewer.

    Attributes:
        comments: comments in display order (each thread's top comment, then its replies
            depth-first, oldest first), as dicts: ``id``, ``parent_id``, ``thread_id``, ``depth``,
            ``author`` (``{"id", "display_name"}`` or ``None`` once deleted or hidden), ``body_html``,
            ``created_at``, ``edited_at``, ``edited``, ``deleted``, ``hidden``, ``can_edit``,
            ``can_delete``, ``can_hide``, ``can_reply``, and ``body`` (the Markdown source, for its
            writer only, else ``None``).
        count: comments every visitor sees on the whole lesson.
        page, pages: 1-based page number and number of pages of threads.
        sort: ``newest`` or ``oldest`` (order of threads).
    """

    comments: list[dict[str, Any]]
    count: int
    page: int
    pages: int
    sort: str


def list_comments(
    session: Session,
    lesson: LessonRef,
    viewer: User | None,
    *,
    sort: str = "newest",
    page: int = 1,
    per_page: int = 20,
) -> CommentPage:
    """One page of threads on ``lesson`` as ``viewer`` (``None``: signed out) sees them.

    Hidden comments keep their place; staff (author, moderator, admin) see their text greyed,
    everyone else a placeholder. Deleted comments keep their place without text or author.
    """
    if sort not in SORTS:
        sort = "newest"
    roots = (
        session.scalar(
            select(func.count()).select_from(Comment).where(*lesson.where(), Comment.parent_id.is_(None))
        )
        or 0
    )
    pages = max(1, -(-roots // per_page))
    page = min(max(1, page), pages)
    order = Comment.created_at.desc() if sort == "newest" else Comment.created_at.asc()
    root_ids = list(
        session.scalars(
            select(Comment.id)
            .where(*lesson.where(), Comment.parent_id.is_(None))
            .order_by(order, Comment.id.desc() if sort == "newest" else Comment.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    out = render_threads(session, viewer, root_ids)
    return CommentPage(out, visible_count(session, lesson), page, pages, sort)


def render_threads(session: Session, viewer: User | None, root_ids: list[int]) -> list[dict[str, Any]]:
    """The comments of threads ``root_ids`` in display order, as ``viewer`` sees them (see CommentPage)."""
    staff = viewer is not None and viewer.role in STAFF_ROLES
    moderator = viewer is not None and viewer.role in MODERATOR_ROLES
    rows = session.execute(
        select(Comment, User)
        .join(User, User.id == Comment.user_id)
        .where(
            or_(Comment.thread_id.in_(root_ids), Comment.id.in_(root_ids)) if root_ids else Comment.id == -1
        )
        .order_by(Comment.created_at, Comment.id)
    ).all()
    children: dict[int | None, list[tuple[Comment, User]]] = {}
    by_id: dict[int, tuple[Comment, User]] = {}
    for comment, author in rows:
        by_id[comment.id] = (comment, author)
        if comment.parent_id is not None:
            children.setdefault(comment.parent_id, []).append((comment, author))
    out: list[dict[str, Any]] = []

    def visit(comment: Comment, author: User, depth: int) -> None:
        gone = comment.deleted_at is not None
        masked = gone or (comment.hidden and not staff)
        mine = viewer is not None and viewer.id == comment.user_id
        out.append(
            {
                "id": comment.id,
                "parent_id": comment.parent_id,
                "thread_id": comment.thread_id,
                "depth": depth,
                "author": None if masked else {"id": author.id, "display_name": author.display_name},
                "body_html": "" if masked else render_comment(comment.body),
                "created_at": iso(comment.created_at),
                "edited_at": iso(comment.edited_at),
                "edited": comment.edited_at is not None and not masked,
                "deleted": gone,
                "hidden": comment.hidden,
                "can_edit": mine and not gone and not comment.hidden,
                "can_delete": (mine or moderator) and not gone,
                "can_hide": moderator and not gone,
                "can_reply": viewer is not None and not gone and not comment.hidden,
                "body": comment.body if mine and not masked else None,
            }
        )
        for child, child_author in children.get(comment.id, []):
            visit(child, child_author, depth + 1)

    for root_id in root_ids:
        if root_id in by_id:
            visit(*by_id[root_id], 0)
    return out


def list_comments_of_thread(
    session: Session, lesson: LessonRef, viewer: User | None, thread_id: int
) -> list[dict[str, Any]]:
    """One thread of ``lesson`` as ``viewer`` sees it (same shape as :class:`CommentPage` items)."""
    root = session.get(Comment, thread_id)
    if root is None or (root.quest, root.chapter, root.lesson) != (
        lesson.quest,
        lesson.chapter,
        lesson.lesson,
    ):
        raise NotFound(f"There is no thread {thread_id} on this lesson.")
    return render_threads(session, viewer, [thread_id])
