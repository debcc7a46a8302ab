"""What every page and API handler shares: the request's locale, the quest and lesson it names, and
rendering a full page. Kept apart from the page handlers so that pages, community pages and APIs
import it without importing each other.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException

from questlab.accounts.deps import current_user
from questlab.community import notify
from questlab.content.model import Lesson, Quest
from questlab.web.csrf import csrf_token
from questlab.web.flash import clear_flash, read_flash
from questlab.web.i18n import COOKIE, LOCALES, negotiate
from questlab.web.render import render


def header_unread(request: Request) -> int | None:
    """Unread notifications of the signed-in visitor for the header, or ``None`` when signed out."""
    user = current_user(request)
    if user is None:
        return None
    with request.app.state.db.session() as session:
        return notify.unread_count(session, user.id)


def request_locale(request: Request) -> str:
    """Locale for this request (``?lang``, cookie, Accept-Language, then the default setting)."""
    return negotiate(
        request.query_params.get("lang"),
        request.cookies.get(COOKIE),
        request.headers.get("accept-language"),
        request.app.state.settings.default_locale,
    )


PAGE_CACHE_MAX = 256
DISCUSSION_MARKER = "<!--questlab:discussion-->"


def base_context(request: Request, locale: str) -> dict[str, Any]:
    """Template variables every page and fragment gets: request, settings, user, CSRF token, banners."""
    runner = request.app.state.runner
    return {
        "request": request,
        "settings": request.app.state.settings,
        "sandbox_warning": runner is not None
        and (runner.chosen == "none" or (runner.starting and runner.mode == "none")),
        "user": current_user(request),
        "csrf_token": csrf_token(request),
        "other_locales": [loc for loc in LOCALES if loc != locale],
    }


def page(
    request: Request,
    template: str,
    status_code: int = 200,
    cache_key: tuple | None = None,
    fragments: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a full page in the visitor's locale; remember an explicit ``?lang`` in a cookie.

    Args:
        request: the request.
        template: template file name.
        status_code: HTTP status.
        cache_key: when given, the rendered HTML is kept under (template, locale, cache_key) and
            reused: the caller promises that the page depends on nothing else.
        fragments: per-request HTML put in place of marker strings after rendering (and after the
            cache), e.g. the discussion of a lesson page whose rest is cached.
        context: template variables.

    A one-time notice (:mod:`questlab.web.flash`) is shown as ``flash`` and then deleted; a page
    carrying one is never taken from or put in the cache.
    """
    locale = request_locale(request)
    flash = read_flash(request)
    if flash is not None:
        context["flash"] = flash
        cache_key = None
    settings = request.app.state.settings
    request.app.state.metrics.pages.labels(template.removesuffix(".html")).inc()
    if "unread_notifications" not in context:
        context["unread_notifications"] = header_unread(request)
    cache: dict[tuple, str] = request.app.state.page_cache
    key = (template, locale, cache_key) if cache_key is not None else None
    html = cache.get(key) if key is not None else None
    if html is None:
        html = render(locale, template, **base_context(request, locale), **context)
        if key is not None:
            if len(cache) >= PAGE_CACHE_MAX:
                cache.clear()
            cache[key] = html
    for marker, fragment in (fragments or {}).items():
        html = html.replace(marker, fragment, 1)
    response = HTMLResponse(html, status_code=status_code)
    chosen = request.query_params.get("lang")
    if chosen in LOCALES and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(
            COOKIE, chosen, max_age=365 * 86400, samesite="lax", secure=settings.https, httponly=True
        )
    response.headers["Vary"] = "Accept-Language, Cookie"
    if flash is not None:
        clear_flash(request, response)
    return response


def get_quest(request: Request, quest_slug: str) -> Quest:
    """Return the served quest ``quest_slug``.

    Raises:
        HTTPException: 404 when there is no such quest.
    """
    quest = request.app.state.catalog.quests.get(quest_slug)
    if quest is None:
        raise HTTPException(404)
    return quest


def get_lesson(
    request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str
) -> tuple[Quest, Lesson]:
    """Return the served quest and lesson.

    Raises:
        HTTPException: 404 for an unknown quest, chapter or lesson, or a draft outside preview mode.
    """
    quest = get_quest(request, quest_slug)
    lesson = quest.find(chapter_slug, lesson_slug)
    if lesson is None:
        raise HTTPException(404)
    return quest, lesson
