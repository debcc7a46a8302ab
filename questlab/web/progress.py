"""Progress over HTTP: ``GET /api/me/progress``, ``POST /api/progress/sync``, ``POST /api/progress/evaluate``,
and the ``/me`` page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from questlab.accounts.deps import require_user
from questlab.db.models import User
from questlab.progress import store
from questlab.progress.engine import QuestProgress
from questlab.progress.facts import local_day
from questlab.web.pagekit import page, request_locale


def all_progress(request: Request, user: User) -> dict[str, QuestProgress]:
    """``user``'s scored progress in every served quest."""
    with request.app.state.db.session() as session:
        fresh = session.get(User, user.id)
        assert fresh is not None
        return {
            slug: store.progress(session, fresh, quest)
            for slug, quest in request.app.state.catalog.quests.items()
        }


def progress_json(request: Request, progress: dict[str, QuestProgress]) -> dict[str, Any]:
    locale = request_locale(request)
    return {"quests": {slug: p.as_json(locale) for slug, p in progress.items()}}


async def api_my_progress(request: Request, user: User = Depends(require_user)) -> JSONResponse:
    """``GET /api/me/progress``: the signed-in learner's state per quest (401 when signed out)."""
    return JSONResponse(progress_json(request, all_progress(request, user)))


async def api_sync(
    request: Request, body: store.SyncPayload, user: User = Depends(require_user)
) -> JSONResponse:
    """``POST /api/progress/sync``: merge the browser's progress; answer the merged state and rejections."""
    with request.app.state.db.session() as session:
        fresh = session.get(User, user.id)
        assert fresh is not None
        rejected = store.merge_payload(
            session, fresh, body, request.app.state.catalog.quests, request.app.state.secret_key
        )
    answer = progress_json(request, all_progress(request, user))
    answer["rejected"] = rejected
    return JSONResponse(answer)


async def api_evaluate(request: Request, body: store.SyncPayload) -> JSONResponse:
    """``POST /api/progress/evaluate``: score local progress without storing it (for visitors)."""
    scored = store.evaluate_payload(body, request.app.state.catalog.quests, request.app.state.secret_key)
    return JSONResponse(progress_json(request, scored))


def xp_chart(progress: QuestProgress, width: int = 560, height: int = 160) -> dict[str, Any]:
    """The cumulative XP chart as inline SVG geometry (user units of a ``width`` × ``height`` view box).

    Returns:
        ``{"points", "dots", "bar", "max", "first", "last", "width", "height"}``. Over several days,
        ``points`` is the line's ``points`` attribute and ``dots`` one ``{"x", "y", "day", "total"}``
        per day; a single day has no line to draw (it would be a lone vertical stroke), so ``bar``
        is one labelled column ``{"x", "y", "width", "height", "label_x", "label_y", "day",
        "total"}`` instead (``None`` otherwise). No XP yet: every field empty.
    """
    timeline: list[tuple[date, int]] = []
    total = 0
    for day, xp in progress.xp_by_day:
        total += xp
        timeline.append((date.fromisoformat(day), total))
    if not timeline:
        return {
            "points": "",
            "max": 0,
            "first": "",
            "last": "",
            "width": width,
            "height": height,
            "dots": [],
            "bar": None,
        }
    first, last = timeline[0][0], timeline[-1][0]
    if len(timeline) == 1:
        bar_width, pad, top = 56, 8, 30  # room above the column for its label
        bar = {
            "x": (width - bar_width) / 2,
            "y": top,
            "width": bar_width,
            "height": height - pad - top,
            "label_x": width / 2,
            "label_y": top - 8,
            "day": first.isoformat(),
            "total": total,
        }
        return {
            "points": "",
            "max": total,
            "first": first.isoformat(),
            "last": last.isoformat(),
            "width": width,
            "height": height,
            "dots": [],
            "bar": bar,
        }
    span = max((last - first).days, 1)
    top = max(total, 1)
    pad = 8

    def x(day: date) -> float:
        return round(pad + (width - 2 * pad) * (day - first).days / span, 1)

    def y(value: int) -> float:
        return round(height - pad - (height - 2 * pad) * value / top, 1)

    dots = [{"x": x(d), "y": y(v), "day": d.isoformat(), "total": v} for d, v in timeline]
    points = [f"{x(first)},{y(0)}"] + [f"{dot['x']},{dot['y']}" for dot in dots]
    return {
        "points": " ".join(points),
        "max": total,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "width": width,
        "height": height,
        "dots": dots,
        "bar": None,
    }


def streak_calendar(progress: QuestProgress, today: str, weeks: int = 12) -> list[list[dict[str, Any]]]:
    """The last ``weeks`` weeks as columns of 7 days (Monday first), each ``{"day", "active", "future"}``."""
    end = date.fromisoformat(today)
    start = end - timedelta(days=end.weekday()) - timedelta(weeks=weeks - 1)
    active = set(progress.active_days)
    columns = []
    for week in range(weeks):
        column = []
        for offset in range(7):
            day = start + timedelta(weeks=week, days=offset)
            column.append({"day": day.isoformat(), "active": day.isoformat() in active, "future": day > end})
        columns.append(column)
    return columns


async def me_page(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    """``GET /me``: per quest, level, XP over time, the streak calendar, achievements and lessons done."""
    progress = all_progress(request, user)
    locale = request_locale(request)
    today = local_day(datetime.now(UTC), user.time_zone)
    quests = []
    for slug, p in progress.items():
        quest = request.app.state.catalog.quests[slug]
        titles = {lesson.key: (lesson.text(locale).meta.title, lesson.url()) for lesson in quest.lessons()}
        quests.append(
            {
                "quest": quest,
                "progress": p,
                "standing": p.standing(locale),
                "chart": xp_chart(p),
                "calendar": streak_calendar(p, today),
                "lessons": [
                    {"key": key, "title": titles[key][0], "url": titles[key][1]}
                    for key in p.lessons_completed
                ],
            }
        )
    return page(request, "me.html", quests=quests, me=user)
