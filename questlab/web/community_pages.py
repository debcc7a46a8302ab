"""HTML pages of the community part: the lesson's discussion, report form, notifications, triage, unsubscribe.

Everything here reads without JavaScript; forms carry the ``csrf_token`` field
and are checked with :func:`check_form_token`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from questlab.accounts.deps import current_user
from questlab.community import comments, notify, reports
from questlab.community.common import LessonRef, is_suspended
from questlab.community.errors import CommunityError
from questlab.content.model import Lesson, Quest
from questlab.db.models import User
from questlab.progress.store import record_comment
from questlab.web.community_api import limits, mailing, submit_report, wake_mailer
from questlab.web.csrf import check_form_token
from questlab.web.pagekit import base_context, get_lesson, header_unread, page, request_locale
from questlab.web.render import gettext, render


def _(message: str) -> str:
    """Mark ``message`` for the catalogs; templates translate it when shown."""
    return message


CATEGORY_LABELS = {
    "typo": _("Typo"),
    "code-does-not-run": _("Code does not run"),
    "wrong-explanation": _("Wrong explanation"),
    "other": _("Other"),
}


def discussion(request: Request, quest: Quest, lesson: Lesson) -> dict[str, Any]:
    """Template context for ``_comments.html``: ``discussion`` (a CommentPage), ``viewer``, ``subscribed``,
    ``comments`` (the count), ``comments_api`` and ``comment_max_chars``.

    The sort and page come from ``?sort=newest|oldest`` and ``?cpage=N``.
    """
    assert lesson.chapter is not None
    user = current_user(request)
    ref = LessonRef(quest.slug, lesson.chapter.slug, lesson.slug)
    try:
        number = int(request.query_params.get("cpage", "1"))
    except ValueError:
        number = 1
    settings = request.app.state.settings
    with request.app.state.db.session() as session:
        listing = comments.list_comments(
            session,
            ref,
            user,
            sort=request.query_params.get("sort", "newest"),
            page=number,
            per_page=settings.comments_per_page,
        )
        subscribed = notify.is_subscribed(session, user.id, ref) if user else False
        suspended = is_suspended(session, user.id) if user else False
    return {
        "discussion": listing,
        "viewer": user,
        "subscribed": subscribed,
        "comments": listing.count,
        "suspended": suspended,
        "comment_max_chars": settings.comment_max_chars,
        "comments_api": f"/api/quests/{quest.slug}/{lesson.chapter.slug}/{lesson.slug}/",
    }


async def comments_fragment(
    request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str
) -> HTMLResponse:
    """``GET /quests/{quest}/{chapter}/{lesson}/comments?sort=&cpage=``: the discussion alone, as the
    lesson page renders it for this viewer (an HTML fragment, never cached).

    comments.js fetches it after posting and every few seconds while the page is open, and puts the
    comments it does not show yet in their places; for a signed-in viewer the section carries the
    unread notification count (``data-unread``) for the header.
    """
    quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    locale = request_locale(request)
    html = render(
        locale,
        "_comments.html",
        **base_context(request, locale),
        quest=quest,
        lesson=lesson,
        chapter=lesson.chapter,
        unread_notifications=header_unread(request),
        **discussion(request, quest, lesson),
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Vary": "Accept-Language, Cookie"})


def _login(path: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(path)}", status_code=303)


async def post_comment_form(
    request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str
) -> Response:
    """``POST /quests/{quest}/{chapter}/{lesson}/comments``: the comment form without JavaScript."""
    quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    form = await request.form()
    if not check_form_token(request, str(form.get("csrf_token", ""))):
        raise HTTPException(403, "The form expired; reload the page and try again.")
    user = current_user(request)
    if user is None:
        return _login(lesson.url() + "#comments")
    assert lesson.chapter is not None
    ref = LessonRef(
        quest.slug,
        lesson.chapter.slug,
        lesson.slug,
        title=lesson.text(request_locale(request)).meta.title,
        url=lesson.url(),
    )
    parent = str(form.get("parent_id") or "")
    try:
        with request.app.state.db.session() as session:
            comment = comments.post_comment(
                session,
                user,
                ref,
                str(form.get("body", "")),
                int(parent) if parent.isdigit() else None,
                limits(request),
                mailing(request),
            )
            record_comment(session, user.id, quest, comment.id)
            anchor = f"comment-{comment.id}"
    except CommunityError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    wake_mailer(request)
    return RedirectResponse(f"{lesson.url()}#{anchor}", status_code=303)


def _report_page(
    request: Request,
    quest: Quest,
    lesson: Lesson,
    *,
    status_code: int = 200,
    error: str | None = None,
    sent: bool = False,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    text = lesson.text(request_locale(request))
    return page(
        request,
        "report.html",
        status_code=status_code,
        quest=quest,
        lesson=lesson,
        chapter=lesson.chapter,
        meta=text.meta,
        code_blocks=text.code_blocks,
        categories=CATEGORY_LABELS,
        error=error,
        sent=sent,
        values=values or {},
        viewer=current_user(request),
    )


async def report_form(request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str) -> HTMLResponse:
    """``GET /quests/{quest}/{chapter}/{lesson}/report``: the "report a problem" form."""
    quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    return _report_page(request, quest, lesson)


async def report_submit(
    request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str
) -> HTMLResponse:
    """``POST /quests/{quest}/{chapter}/{lesson}/report``: file the report (signed out too)."""
    quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    form = await request.form()
    values = {key: str(form.get(key, "")) for key in ("category", "message", "code_block")}
    _ = gettext(request_locale(request))
    if not check_form_token(request, str(form.get("csrf_token", ""))):
        return _report_page(
            request,
            quest,
            lesson,
            status_code=403,
            values=values,
            error=_("The form expired. Please send it again."),
        )
    if form.get("website"):  # honeypot: people never see this field; bots fill it
        return _report_page(request, quest, lesson, sent=True)
    assert lesson.chapter is not None
    ref = LessonRef(quest.slug, lesson.chapter.slug, lesson.slug)
    code_block = int(values["code_block"]) - 1 if values["code_block"].isdigit() else None
    try:
        submit_report(
            request,
            ref,
            len(lesson.text(request_locale(request)).code_blocks),
            current_user(request),
            values["category"],
            values["message"],
            code_block,
        )
    except CommunityError as exc:
        return _report_page(request, quest, lesson, status_code=exc.status, values=values, error=str(exc))
    return _report_page(request, quest, lesson, sent=True)


def page_number(request: Request, pages: int) -> int:
    """The 1-based ``?page=`` of the request, within 1..``pages`` (1 when missing or not a number)."""
    try:
        number = int(request.query_params.get("page", "1"))
    except ValueError:
        number = 1
    return min(max(1, number), max(1, pages))


async def notifications_page(request: Request) -> Response:
    """``GET /notifications?page=N``: the signed-in learner's notifications, newest first, 50 a page;
    those this page shows are marked read by the visit."""
    user = current_user(request)
    if user is None:
        return _login("/notifications")
    per_page = notify.NOTIFICATIONS_PER_PAGE
    with request.app.state.db.session() as session:
        pages = max(1, -(-notify.notification_count(session, user.id) // per_page))
        number = page_number(request, pages)
        items = notify.list_notifications(session, user.id, offset=(number - 1) * per_page)
        email = notify.wants_email(session, user.id)
        notify.mark_read(session, user.id, [item["id"] for item in items if not item["read"]])
        unread = notify.unread_count(session, user.id)
    return page(
        request,
        "notifications.html",
        notifications=items,
        email=email,
        viewer=user,
        unread_notifications=unread,
        page_number=number,
        pages=pages,
    )


async def notifications_email(request: Request) -> Response:
    """``POST /notifications/email`` (form): turn reply emails on or off."""
    user = current_user(request)
    if user is None:
        return _login("/notifications")
    form = await request.form()
    if not check_form_token(request, str(form.get("csrf_token", ""))):
        raise HTTPException(403, "The form expired; reload the page and try again.")
    with request.app.state.db.session() as session:
        notify.set_email_replies(session, user.id, form.get("enabled") == "1")
    return RedirectResponse("/notifications", status_code=303)


async def unsubscribe(request: Request, token: str) -> HTMLResponse:
    """``GET`` or ``POST /unsubscribe/{token}``: the emailed one-click link (and RFC 8058 one-click POST)."""
    user_id = notify.read_unsubscribe_token(request.app.state.secret_key, token)
    if user_id is None:
        raise HTTPException(
            404, "This unsubscribe link is not valid. Turn emails off on your notifications page."
        )
    with request.app.state.db.session() as session:
        if session.get(User, user_id) is None:
            raise HTTPException(404, "This account no longer exists.")
        notify.set_email_replies(session, user_id, False)
    return page(request, "unsubscribed.html")


def _triage_user(request: Request) -> User | RedirectResponse:
    user = current_user(request)
    if user is None:
        return _login("/admin/reports")
    if user.role not in reports.TRIAGE_ROLES:
        raise HTTPException(403, "Only authors and admins can see problem reports.")
    return user


async def admin_reports(request: Request) -> Response:
    """``GET /admin/reports?quest=&lesson=&status=``: triage for authors and admins."""
    user = _triage_user(request)
    if isinstance(user, RedirectResponse):
        return user
    filters = {key: request.query_params.get(key) or "" for key in ("quest", "lesson", "status")}
    if "status" not in request.query_params:
        filters["status"] = "open"
    with request.app.state.db.session() as session:
        items = reports.list_reports(
            session,
            user,
            quest=filters["quest"] or None,
            lesson=filters["lesson"] or None,
            status=filters["status"] or None,
        )
    lessons = [
        (q.slug, lesson.key)
        for q in request.app.state.catalog.quests.values()
        for chapter in q.chapters
        for lesson in chapter.lessons
    ]
    return page(
        request,
        "admin_reports.html",
        reports=items,
        filters=filters,
        lessons=lessons,
        categories=CATEGORY_LABELS,
        query=urlencode(filters),
        viewer=user,
    )


async def admin_resolve(request: Request, report_id: int) -> Response:
    """``POST /admin/reports/{id}/resolve`` (form with ``note``): mark resolved, back to the list."""
    user = _triage_user(request)
    if isinstance(user, RedirectResponse):
        return user
    form = await request.form()
    if not check_form_token(request, str(form.get("csrf_token", ""))):
        raise HTTPException(403, "The form expired; reload the page and try again.")
    try:
        with request.app.state.db.session() as session:
            reports.resolve_report(session, user, report_id, str(form.get("note", "")))
    except CommunityError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    back = str(form.get("back", ""))
    return RedirectResponse(
        "/admin/reports" + (f"?{back}" if back and "\n" not in back else ""), status_code=303
    )


def quest_report_counts(request: Request, quest: Quest) -> dict[str, int] | None:
    """Open reports per lesson key for authors and admins on the quest map; ``None`` for others."""
    user = current_user(request)
    if user is None or user.role not in reports.TRIAGE_ROLES:
        return None
    with request.app.state.db.session() as session:
        return reports.open_counts(session, quest.slug)
