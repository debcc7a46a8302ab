"""HTML page handlers. Reading works without JavaScript; scripts add Run, Submit, comments and progress."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup
from starlette.exceptions import HTTPException

from questlab.accounts.deps import SESSION_COOKIE, current_user
from questlab.content.model import Lesson, Quest
from questlab.db.models import User
from questlab.progress.standing import Standing, standing
from questlab.progress.store import progress
from questlab.web.csrf import csrf_token
from questlab.web.i18n import COOKIE, LOCALES, negotiate
from questlab.web.render import lesson_html, render


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
        "sandbox_warning": runner is not None and not runner.sandboxed,
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
    """
    locale = request_locale(request)
    settings = request.app.state.settings
    request.app.state.metrics.pages.labels(template.removesuffix(".html")).inc()
    if "unread_notifications" not in context:
        from questlab.web.community_pages import header_unread

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


async def index(request: Request) -> HTMLResponse:
    """``GET /``: the list of quests."""
    return page(request, "index.html", quests=list(request.app.state.catalog.quests.values()))


def learner_standing(request: Request, quest: Quest, locale: str) -> tuple[Standing, set[str], list[str]]:
    """The strip numbers, completed lesson keys and unlocked achievement ids: the account's when signed
    in, nothing otherwise (a visitor's browser fills in its local progress)."""
    user = current_user(request)
    if user is None:
        return standing(quest, locale), set(), []
    with request.app.state.db.session() as session:
        fresh = session.get(User, user.id)
        assert fresh is not None
        scored = progress(session, fresh, quest)
    return scored.standing(locale), set(scored.lessons_completed), scored.unlocked()


async def quest_map(request: Request, quest_slug: str) -> HTMLResponse:
    """``GET /quests/{quest}/``: chapters and lessons with minutes and the learner's progress."""
    quest = get_quest(request, quest_slug)
    locale = request_locale(request)
    from questlab.web.community_pages import quest_report_counts

    strip, done, unlocked = learner_standing(request, quest, locale)
    return page(
        request,
        "quest.html",
        quest=quest,
        standing=strip,
        done=done,
        unlocked=unlocked,
        report_counts=quest_report_counts(request, quest),
    )


async def lesson_page(request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str) -> HTMLResponse:
    """``GET /quests/{quest}/{chapter}/{lesson}/``: the lesson page (every element of DESIGN.md section 1)."""
    from questlab.web.community_pages import discussion

    quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    locale = request_locale(request)
    assert lesson.chapter is not None
    bank = getattr(request.app.state, "grading_bank", None)
    if bank is not None and lesson.exercise is not None and lesson.exercise.graded:
        bank.warm(lesson.exercise)  # the reference evidence is ready before the first submission
    strip, done, unlocked = learner_standing(request, quest, locale)
    talk = discussion(request, quest, lesson)
    context = dict(
        quest=quest,
        lesson=lesson,
        chapter=lesson.chapter,
        text=lesson.text(locale),
        html=lesson_html(quest, lesson, locale),
        standing=strip,
        done=lesson.key in done,
        unlocked=unlocked,
    )
    if not anonymous_viewer(request):
        return page(request, "lesson.html", **context, **talk)
    # A visitor's lesson page is the same for everyone but its discussion: cache the page with a
    # marker where the discussion goes, and render the discussion for each request.
    discussion_html = render(locale, "_comments.html", **base_context(request, locale), **context, **talk)
    return page(
        request,
        "lesson.html",
        cache_key=(lesson.url(), quest.version, runner_state(request)),
        fragments={DISCUSSION_MARKER: discussion_html},
        discussion_marker=Markup(DISCUSSION_MARKER),
        **context,
    )


def anonymous_viewer(request: Request) -> bool:
    """Whether the visitor is not signed in (their page then depends only on content and locale)."""
    return not request.cookies.get(SESSION_COOKIE)


def runner_state(request: Request) -> str:
    """``"off"``, ``"sandboxed"`` or ``"unsandboxed"``: pages differ by it (the no-sandbox banner)."""
    runner = request.app.state.runner
    return "off" if runner is None else ("sandboxed" if runner.sandboxed else "unsandboxed")


async def http_error_page(request: Request, exc: Exception) -> Response:
    """Render HTTP errors: JSON under ``/api/``, an HTML page elsewhere."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    template = "404.html" if exc.status_code == 404 else "error.html"
    response = page(request, template, status_code=exc.status_code, status=exc.status_code, detail=exc.detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def validation_error(request: Request, exc: Exception) -> Response:
    """A malformed request body or parameter: 422 with pydantic's list of what was wrong."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
    return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)
