"""``POST /api/run``: run learner code in the sandbox and return the runner's JSON."""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from questlab.web.i18n import translations
from questlab.web.pagekit import request_locale
from questlab.web.ratelimit import RateLimiter, RedisRateLimiter, visitor_key

MAX_CODE_CHARS = 100_000
"""Longest program accepted, in characters (a lesson snippet is a few hundred)."""


def _(message: str) -> str:
    """Mark ``message`` for extraction into the catalogs; it is translated when used."""
    return message


#: The runner's sentences (questlab/runner/limits.py: limits, then how a run ended) and their
#: gettext messages; the Korean ones are in web/locale/ko/LC_MESSAGES/messages.po.
LIMIT_SENTENCES = [
    (re.compile(r"stopped after ([\d.]+) s of CPU time"), _("stopped after %(value)s s of CPU time")),
    (
        re.compile(r"stopped after ([\d.]+) s of wall-clock time"),
        _("stopped after %(value)s s of wall-clock time"),
    ),
    (
        re.compile(r"stopped: the run used more than (\d+) MB of memory"),
        _("stopped: the run used more than %(value)s MB of memory"),
    ),
    (re.compile(r"stopped after (\d+) bytes of output"), _("stopped after %(value)s bytes of output")),
    # How a run ended when no limit stopped it (questlab/runner/limits.py END_SENTENCES).
    (
        re.compile(r"the program ended with exit code (\d+) \(any code but 0 means it failed\)"),
        _("the program ended with exit code %(value)s (any code but 0 means it failed)"),
    ),
    (
        re.compile(r"no runner worker answered within ([\d.]+) s; please run it again"),
        _("no runner worker answered within %(value)s s; please run it again"),
    ),
    (
        re.compile(r"runs have no network: downloads \(torch.hub, datasets, web pages\) cannot work here"),
        _("runs have no network: downloads (torch.hub, datasets, web pages) cannot work here"),
    ),
    (
        re.compile(r"runs have no keyboard input: input\(\) gets nothing here; put the value in the code"),
        _("runs have no keyboard input: input() gets nothing here; put the value in the code"),
    ),
]

#: Answers of the web layer itself when a run cannot start now.
WARMING_UP = _("the runner is warming up; retry in %(value)s s")
BUSY = _("the runner is busy; retry in a few seconds")
TOO_MANY = _("too many runs in a minute; retry in %(value)s s")
TURNED_OFF = _("code running is turned off on this server")


def unavailable_sentence(unavailable: object, locale: str) -> str:
    """The learner's sentence for a :class:`questlab.runner.RunnerUnavailable` in ``locale``:
    no worker online, none offering the capability asked for, or the broker unreachable."""
    from questlab.grading.messages import localize

    if unavailable.reason == "broker_down":  # type: ignore[attr-defined]
        return localize("runner_unreachable", None, locale)
    if unavailable.capability:  # type: ignore[attr-defined]
        return localize("runner_no_capability", {"capability": unavailable.capability}, locale)  # type: ignore[attr-defined]
    return localize("runner_no_worker", None, locale)


def say(msgid: str, locale: str, value: object = None) -> str:
    """``msgid`` (one of the module's gettext messages) in ``locale``, with ``%(value)s`` filled in."""
    return translations(locale).gettext(msgid) % {"value": value}


def localize_message(message: str | None, locale: str) -> str | None:
    """The runner's limit sentence in ``locale`` (the runner speaks English); other messages unchanged."""
    if not message:
        return message
    for pattern, msgid in LIMIT_SENTENCES:
        match = pattern.fullmatch(message)
        if match:
            value = match.group(1) if pattern.groups else None
            return translations(locale).gettext(msgid) % {"value": value}
    return message


class RunRequest(BaseModel):
    """Body of ``POST /api/run``."""

    code: str = Field(max_length=MAX_CODE_CHARS, description="Python source to run.")
    lesson: str | None = Field(
        default=None,
        max_length=300,
        description="The lesson the code comes from, quest/chapter/lesson: its `requires` picks the runner.",
    )


def required_capability(request: Request, lesson_key: str | None) -> str | None:
    """The capability the lesson ``quest/chapter/lesson`` asks its runs for (front matter
    ``requires``), or ``None`` for no lesson, an unknown one, or one that asks for nothing."""
    if not lesson_key or lesson_key.count("/") != 2:
        return None
    quest_slug, chapter_slug, lesson_slug = lesson_key.split("/")
    quest = request.app.state.catalog.quests.get(quest_slug)
    lesson = quest.find(chapter_slug, lesson_slug) if quest is not None else None
    return lesson.requires if lesson is not None else None


def busy_response(retry_after_s: float, message: str, status_code: int) -> JSONResponse:
    """A ``busy`` answer in the runner's JSON shape with ``Retry-After`` in whole seconds (429 or 503)."""
    from questlab.runner import RESULT_VERSION

    seconds = max(1, math.ceil(retry_after_s))
    return JSONResponse(
        {
            "version": RESULT_VERSION,
            "status": "busy",
            "message": message,
            "retry_after": seconds,
            "stdout": "",
            "stderr": "",
            "truncated": False,
            "exit_code": None,
            "duration_ms": 0,
            "cpu_ms": 0,
            "traceback": None,
            "images": [],
            "modules": [],
        },
        status_code=status_code,
        headers={"Retry-After": str(seconds)},
    )


def _redis(state: Any) -> Any:
    """The app's shared ``redis.asyncio`` client for rate limits (made on first use)."""
    if getattr(state, "rate_redis", None) is None:
        import redis.asyncio as aioredis

        state.rate_redis = aioredis.Redis.from_url(
            state.settings.redis_url, socket_timeout=1, socket_connect_timeout=1
        )
    return state.rate_redis


def limiter(request: Request) -> RateLimiter | RedisRateLimiter:
    """The app's per-visitor run rate limiter (created on first use from ``run_rate_per_minute``;
    in Redis with ``rate_limit_store="redis"``)."""
    state = request.app.state
    if getattr(state, "run_limiter", None) is None:
        limit = state.settings.run_rate_per_minute
        if state.settings.rate_limit_store == "redis":
            state.run_limiter = RedisRateLimiter(_redis(state), limit, 60.0, "questlab:rate:visitor:")
        else:
            state.run_limiter = RateLimiter(limit, 60.0)
    return state.run_limiter


def address_limiter(request: Request) -> RateLimiter | RedisRateLimiter:
    """The app's per-address run rate limiter (``run_rate_per_address_per_minute``).

    The visitor key comes from cookies the client chooses; this one does not, so a client that
    forges a new cookie for every request is still held to its address's budget.
    """
    state = request.app.state
    if getattr(state, "run_address_limiter", None) is None:
        limit = state.settings.run_rate_per_address_per_minute
        if state.settings.rate_limit_store == "redis":
            state.run_address_limiter = RedisRateLimiter(_redis(state), limit, 60.0, "questlab:rate:address:")
        else:
            state.run_address_limiter = RateLimiter(limit, 60.0)
    return state.run_address_limiter


def client_address(request: Request) -> str:
    """The client's address (``unknown`` without one), the owner the runner queues fairly by."""
    return request.client.host if request.client else "unknown"


async def run_budget(request: Request) -> float:
    """Count one run or submission for this visitor and address.

    Returns:
        0.0 when allowed, else the seconds to wait (the longer of the two limits).
    """
    address = f"ip:{request.client.host if request.client else 'unknown'}"
    visitor = await limiter(request).take(visitor_key(request))
    return max(visitor, await address_limiter(request).take(address))


async def run_code(request: Request, body: RunRequest) -> JSONResponse:
    """Run ``body.code`` and return the result JSON (``docs/runner.md``).

    Answers 503 with ``Retry-After`` while the runner warms up after the server started
    ("warming up; retry in N s") and when every slot is busy and the queue is full, 429 when
    this visitor runs too often, 503 when the runner is off. Every message is in the
    visitor's locale.
    """
    from questlab.runner import RunnerBusy, RunnerStarting

    locale = request_locale(request)
    runner = request.app.state.runner
    if runner is None:
        return JSONResponse({"status": "error", "message": say(TURNED_OFF, locale)}, status_code=503)
    if runner.starting:  # before the rate limit: a run refused for warming up is not counted
        retry = runner.start_retry_after()
        return busy_response(retry, say(WARMING_UP, locale, math.ceil(retry)), 503)
    wait = await run_budget(request)
    if wait:
        return busy_response(wait, say(TOO_MANY, locale, math.ceil(wait)), 429)
    from questlab.runner import RunnerUnavailable

    capability = required_capability(request, body.lesson)
    try:
        result = await runner.run(body.code, owner=client_address(request), capability=capability)
    except RunnerUnavailable as unavailable:
        request.app.state.metrics.runs.labels("unavailable").inc()
        return busy_response(unavailable.retry_after_s, unavailable_sentence(unavailable, locale), 503)
    except RunnerStarting as starting:  # the runner started again between the check and the run
        retry = starting.retry_after_s
        return busy_response(retry, say(WARMING_UP, locale, math.ceil(retry)), 503)
    except RunnerBusy as busy:
        request.app.state.metrics.runs.labels("busy").inc()
        return busy_response(busy.retry_after_s, say(BUSY, locale), 503)
    request.app.state.metrics.runs.labels(result.status).inc()
    request.app.state.metrics.run_seconds.observe(result.duration_ms / 1000)
    body = result.to_json()
    body["message"] = localize_message(body.get("message"), locale)
    return JSONResponse(body)
