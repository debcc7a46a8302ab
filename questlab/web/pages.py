"""HTML page handlers. Reading works without JavaScript; scripts add Run, Submit, comments and progress."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup
from starlette.exceptions import HTTPException

from questlab.accounts.deps import SESSION_COOKIE, current_user
from questlab.content.model import Quest
from questlab.db.models import User
from questlab.progress.standing import Standing, standing
from questlab.progress.store import progress
from questlab.web.community_pages import discussion, quest_report_counts
from questlab.web.pagekit import DISCUSSION_MARKER, base_context, get_lesson, get_quest, page, request_locale
from questlab.web.render import lesson_html, render


async def index(request: Request) -> HTMLResponse:
    """``GET /``: the list of quests, each with where the learner stands and where to go on."""
    locale = request_locale(request)
    cards = []
    for quest in request.app.state.catalog.quests.values():
        strip, done, unlocked = learner_standing(request, quest, locale)
        cards.append(
            {
                "quest": quest,
                "standing": strip,
                "unlocked": unlocked,
                "go": continue_at(quest, done, locale),
            }
        )
    return page(request, "index.html", cards=cards)


def continue_at(quest: Quest, done: set[str], locale: str) -> dict[str, Any]:
    """Where the learner goes on in ``quest``: the first lesson in quest order not in ``done``.

    Returns:
        ``{"state", "url", "title", "lessons"}``: ``state`` is ``"start"`` (nothing done yet),
        ``"continue"`` or ``"done"`` (every lesson done: ``url`` is the quest page, ``title`` empty);
        ``lessons`` lists ``{"key", "url", "title"}`` in quest order, for the page's script to
        choose again from a visitor's local progress.
    """
    lessons = [
        {"key": lesson.key, "url": lesson.url(), "title": lesson.text(locale).meta.title}
        for lesson in quest.lessons()
    ]
    first = next((item for item in lessons if item["key"] not in done), None)
    if first is None:
        return {"state": "done", "url": f"/quests/{quest.slug}/", "title": "", "lessons": lessons}
    state = "continue" if done & {item["key"] for item in lessons} else "start"
    return {"state": state, "url": first["url"], "title": first["title"], "lessons": lessons}


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
    strip, done, unlocked = learner_standing(request, quest, locale)
    return page(
        request,
        "quest.html",
        quest=quest,
        standing=strip,
        done=done,
        unlocked=unlocked,
        continue_to=continue_at(quest, done, locale),
        report_counts=quest_report_counts(request, quest),
    )


async def lesson_page(request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str) -> HTMLResponse:
    """``GET /quests/{quest}/{chapter}/{lesson}/``: the lesson page (every element of DESIGN.md section 1)."""
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
        done_keys=done,
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
    """``"off"``, ``"starting"``, ``"sandboxed"`` or ``"unsandboxed"``; pages differ by it (the banner).

    ``"starting"`` while the runner warms up after the server started (Run answers 503 then).
    """
    runner = request.app.state.runner
    if runner is None:
        return "off"
    if runner.starting or runner.chosen is None:
        return "starting"
    return "sandboxed" if runner.sandboxed else "unsandboxed"


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
