"""JSON API of the community part: comments, the bell, notifications, problem reports, moderation.

Every state change needs a signed-in session (problem reports excepted) and the
CSRF header (checked by the middleware); every permission is checked by the
services in :mod:`questlab.community`. Shapes are documented in docs/community.md.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from questlab.accounts.deps import current_user
from questlab.community import comments, notify, reports
from questlab.community.common import LessonRef
from questlab.community.errors import CommunityError
from questlab.db.models import User
from questlab.progress.store import record_comment
from questlab.web.pagekit import get_lesson, get_quest, request_locale


class CommentIn(BaseModel):
    """A new comment; ``parent_id`` makes it a reply."""

    body: str = Field(max_length=100_000)
    parent_id: int | None = None


class CommentEdit(BaseModel):
    """A comment's new text."""

    body: str = Field(max_length=100_000)


class HideIn(BaseModel):
    """Hide (``true``) or show again (``false``)."""

    hidden: bool = True


class SuspendIn(BaseModel):
    """Suspend (``true``) or reinstate (``false``) an account, with an optional reason."""

    suspended: bool = True
    reason: str | None = Field(default=None, max_length=500)


class ReadIn(BaseModel):
    """Notification ids to mark read; ``null`` marks all."""

    ids: list[int] | None = None


class EmailIn(BaseModel):
    """Reply emails on (``true``) or off."""

    enabled: bool


class ReportIn(BaseModel):
    """A problem report. ``code_block`` is 0-based; ``website`` is a honeypot that people leave empty."""

    category: str = Field(max_length=40)
    message: str = Field(max_length=20_000)
    code_block: int | None = None
    website: str | None = None


class ResolveIn(BaseModel):
    """What was done about a report."""

    note: str = Field(default="", max_length=20_000)


def lesson_ref(request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str) -> LessonRef:
    """The served lesson as a :class:`LessonRef` (404 for an unknown lesson)."""
    quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    assert lesson.chapter is not None
    title = lesson.text(request_locale(request)).meta.title
    return LessonRef(quest.slug, lesson.chapter.slug, lesson.slug, title=title, url=lesson.url())


def signed_in(user: User | None, doing: str) -> User:
    """``user``, or a 401 saying what needs a session."""
    if user is None:
        raise HTTPException(401, f"Sign in to {doing}.")
    return user


def limits(request: Request) -> comments.Limits:
    """Comment limits from the settings."""
    settings = request.app.state.settings
    return comments.Limits(max_chars=settings.comment_max_chars, per_minute=settings.comments_per_minute)


def mailing(request: Request) -> notify.Mailing:
    """Base URL and secret for emailed links."""
    return notify.Mailing(request.app.state.settings.base_url, request.app.state.secret_key)


def wake_mailer(request: Request) -> None:
    """Tell the outbox sender to look now (it sends in its own thread; this never blocks)."""
    mailer = getattr(request.app.state, "mailer", None)
    if mailer is not None:
        mailer.wake()


async def community_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer a refused community action with its status and sentence (``Retry-After`` when rate-limited)."""
    assert isinstance(exc, CommunityError)
    headers = {"Retry-After": str(exc.retry_after)} if hasattr(exc, "retry_after") else None
    return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)


def _comment_json(session: Any, ref: LessonRef, viewer: User, comment_id: int) -> dict[str, Any]:
    """The listed shape of one comment (looked up through the thread listing so the shape is the same)."""
    from questlab.db.models import Comment

    comment = session.get(Comment, comment_id)
    page = comments.list_comments_of_thread(session, ref, viewer, comment.thread_id)
    return next(item for item in page if item["id"] == comment_id)


async def list_lesson_comments(
    request: Request,
    quest_slug: str,
    chapter_slug: str,
    lesson_slug: str,
    sort: str = "newest",
    page: int = 1,
    user: User | None = Depends(current_user),
) -> dict[str, Any]:
    """``GET /api/quests/{quest}/{chapter}/{lesson}/comments?sort=newest|oldest&page=N``."""
    ref = lesson_ref(request, quest_slug, chapter_slug, lesson_slug)
    with request.app.state.db.session() as session:
        listing = comments.list_comments(
            session, ref, user, sort=sort, page=page, per_page=request.app.state.settings.comments_per_page
        )
        subscribed = notify.is_subscribed(session, user.id, ref) if user else None
    return {
        "comments": listing.comments,
        "count": listing.count,
        "page": listing.page,
        "pages": listing.pages,
        "sort": listing.sort,
        "subscribed": subscribed,
    }


async def post_lesson_comment(
    request: Request,
    quest_slug: str,
    chapter_slug: str,
    lesson_slug: str,
    data: CommentIn,
    user: User | None = Depends(current_user),
) -> JSONResponse:
    """``POST /api/quests/{quest}/{chapter}/{lesson}/comments`` (``{"body", "parent_id"}``): 201."""
    user = signed_in(user, "comment")
    ref = lesson_ref(request, quest_slug, chapter_slug, lesson_slug)
    with request.app.state.db.session() as session:
        comment = comments.post_comment(
            session, user, ref, data.body, data.parent_id, limits(request), mailing(request)
        )
        record_comment(session, user.id, get_quest(request, quest_slug), comment.id)
        item = _comment_json(session, ref, user, comment.id)
    wake_mailer(request)
    return JSONResponse({"comment": item}, status_code=201)


async def edit_comment(
    request: Request, comment_id: int, data: CommentEdit, user: User | None = Depends(current_user)
) -> dict[str, Any]:
    """``PUT /api/comments/{id}`` with ``{"body"}``: the writer edits their comment."""
    user = signed_in(user, "edit your comment")
    with request.app.state.db.session() as session:
        comment = comments.edit_comment(session, user, comment_id, data.body, limits(request))
        ref = LessonRef(comment.quest, comment.chapter, comment.lesson)
        return {"comment": _comment_json(session, ref, user, comment.id)}


async def delete_comment(
    request: Request, comment_id: int, user: User | None = Depends(current_user)
) -> dict[str, Any]:
    """``DELETE /api/comments/{id}``: the writer or a moderator deletes a comment."""
    user = signed_in(user, "delete a comment")
    with request.app.state.db.session() as session:
        comments.delete_comment(session, user, comment_id)
    return {"id": comment_id, "deleted": True}


async def hide_comment(
    request: Request, comment_id: int, data: HideIn, user: User | None = Depends(current_user)
) -> dict[str, Any]:
    """``POST /api/comments/{id}/hide`` with ``{"hidden": bool}``: moderators only."""
    user = signed_in(user, "moderate")
    with request.app.state.db.session() as session:
        comments.hide_comment(session, user, comment_id, data.hidden)
    return {"id": comment_id, "hidden": data.hidden}


async def suspend_account(
    request: Request, user_id: int, data: SuspendIn, user: User | None = Depends(current_user)
) -> dict[str, Any]:
    """``POST /api/users/{id}/suspend`` with ``{"suspended": bool, "reason"}``: moderators only."""
    user = signed_in(user, "moderate")
    with request.app.state.db.session() as session:
        comments.suspend_user(session, user, user_id, data.suspended, data.reason)
    return {"id": user_id, "suspended": data.suspended}


async def subscribe(
    request: Request,
    quest_slug: str,
    chapter_slug: str,
    lesson_slug: str,
    user: User | None = Depends(current_user),
) -> dict[str, Any]:
    """``PUT /api/quests/{quest}/{chapter}/{lesson}/subscription``: turn the bell on."""
    user = signed_in(user, "get reply notifications")
    ref = lesson_ref(request, quest_slug, chapter_slug, lesson_slug)
    with request.app.state.db.session() as session:
        notify.subscribe(session, user.id, ref)
    return {"subscribed": True}


async def unsubscribe(
    request: Request,
    quest_slug: str,
    chapter_slug: str,
    lesson_slug: str,
    user: User | None = Depends(current_user),
) -> dict[str, Any]:
    """``DELETE /api/quests/{quest}/{chapter}/{lesson}/subscription``: turn the bell off."""
    user = signed_in(user, "change reply notifications")
    ref = lesson_ref(request, quest_slug, chapter_slug, lesson_slug)
    with request.app.state.db.session() as session:
        notify.unsubscribe(session, user.id, ref)
    return {"subscribed": False}


async def list_notifications(
    request: Request, page: int = 1, user: User | None = Depends(current_user)
) -> dict[str, Any]:
    """``GET /api/notifications?page=N``: ``{"unread": n, "email": bool, "notifications": [...],
    "page": N, "pages": n, "total": n}``, newest first, 50 a page (a page past the last is empty)."""
    user = signed_in(user, "see your notifications")
    per_page = notify.NOTIFICATIONS_PER_PAGE
    page = max(1, page)
    with request.app.state.db.session() as session:
        total = notify.notification_count(session, user.id)
        return {
            "unread": notify.unread_count(session, user.id),
            "email": notify.wants_email(session, user.id),
            "notifications": notify.list_notifications(session, user.id, offset=(page - 1) * per_page),
            "page": page,
            "pages": max(1, -(-total // per_page)),
            "total": total,
        }


async def read_notifications(
    request: Request, data: ReadIn | None = None, user: User | None = Depends(current_user)
) -> dict[str, Any]:
    """``POST /api/notifications/read`` with ``{"ids": [...]}`` (or no body: all): mark read."""
    user = signed_in(user, "see your notifications")
    with request.app.state.db.session() as session:
        changed = notify.mark_read(session, user.id, data.ids if data else None)
        return {"marked": changed, "unread": notify.unread_count(session, user.id)}


async def email_preference(
    request: Request, data: EmailIn, user: User | None = Depends(current_user)
) -> dict[str, Any]:
    """``PUT /api/notifications/email`` with ``{"enabled": bool}``: opt in to (or out of) reply emails."""
    user = signed_in(user, "change your email settings")
    with request.app.state.db.session() as session:
        notify.set_email_replies(session, user.id, data.enabled)
    return {"email": data.enabled}


def client_address(request: Request) -> str:
    """The visitor's address as seen by the server (for rate limits of signed-out reports)."""
    return request.client.host if request.client else "unknown"


def submit_report(
    request: Request,
    ref: LessonRef,
    code_blocks: int,
    user: User | None,
    category: str,
    message: str,
    code_block: int | None,
) -> int:
    """File a report from the API or the form; returns its id."""
    settings = request.app.state.settings
    with request.app.state.db.session() as session:
        report = reports.file_report(
            session,
            ref,
            category=category,
            message=message,
            code_block=code_block,
            user=user,
            client=reports.client_hash(request.app.state.secret_key, client_address(request)),
            code_blocks=code_blocks,
            per_hour=settings.reports_per_hour,
        )
        return report.id


def code_block_count(request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str) -> int:
    """Number of code blocks in the lesson as the visitor reads it."""
    _quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    return len(lesson.text(request_locale(request)).code_blocks)


async def post_report(
    request: Request,
    quest_slug: str,
    chapter_slug: str,
    lesson_slug: str,
    data: ReportIn,
    user: User | None = Depends(current_user),
) -> JSONResponse:
    """``POST /api/quests/{quest}/{chapter}/{lesson}/reports`` with ``{"category", "message"}``: 201.

    Signed-out visitors may report (rate-limited per address). A filled honeypot gets the same
    answer but nothing is stored.
    """
    ref = lesson_ref(request, quest_slug, chapter_slug, lesson_slug)
    if data.website:
        return JSONResponse({"id": None, "status": "open"}, status_code=201)
    blocks = code_block_count(request, quest_slug, chapter_slug, lesson_slug)
    report_id = submit_report(request, ref, blocks, user, data.category, data.message, data.code_block)
    return JSONResponse({"id": report_id, "status": "open"}, status_code=201)


async def admin_reports(
    request: Request,
    quest: str | None = None,
    lesson: str | None = None,
    status: str | None = None,
    user: User | None = Depends(current_user),
) -> dict[str, Any]:
    """``GET /api/admin/reports?quest=&lesson=chapter/lesson&status=open|resolved``: authors and admins."""
    user = signed_in(user, "triage reports")
    with request.app.state.db.session() as session:
        return {"reports": reports.list_reports(session, user, quest=quest, lesson=lesson, status=status)}


async def resolve_report(
    request: Request, report_id: int, data: ResolveIn, user: User | None = Depends(current_user)
) -> dict[str, Any]:
    """``POST /api/admin/reports/{id}/resolve`` with ``{"note"}``: authors and admins."""
    user = signed_in(user, "triage reports")
    with request.app.state.db.session() as session:
        report = reports.resolve_report(session, user, report_id, data.note)
        return {"id": report.id, "status": report.status, "resolution_note": report.resolution_note}
