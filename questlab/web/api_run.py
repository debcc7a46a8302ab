"""``POST /api/run``: run learner code in the sandbox and return the runner's JSON."""

from __future__ import annotations

import math
import re

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from questlab.web.i18n import translations
from questlab.web.pagekit import request_locale
from questlab.web.ratelimit import RateLimiter, visitor_key

MAX_CODE_CHARS = 100_000
"""Longest program accepted, in characters (a lesson snippet is a few hundred)."""


def _(message: str) -> str:
    """Mark ``message`` for extraction into the catalogs; it is translated when used."""
    return message


#: The runner's limit sentences (questlab/runner/limits.py) and their gettext messages.
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
]


def localize_message(message: str | None, locale: str) -> str | None:
    """The runner's limit sentence in ``locale`` (the runner speaks English); other messages unchanged."""
    if not message:
        return message
    for pattern, msgid in LIMIT_SENTENCES:
        match = pattern.fullmatch(message)
        if match:
            return translations(locale).gettext(msgid) % {"value": match.group(1)}
    return message


class RunRequest(BaseModel):
    """Body of ``POST /api/run``."""

    code: str = Field(max_length=MAX_CODE_CHARS, description="Python source to run.")


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


def limiter(request: Request) -> RateLimiter:
    """The app's per-visitor run rate limiter (created on first use from ``run_rate_per_minute``)."""
    state = request.app.state
    if getattr(state, "run_limiter", None) is None:
        state.run_limiter = RateLimiter(state.settings.run_rate_per_minute, 60.0)
    return state.run_limiter


def address_limiter(request: Request) -> RateLimiter:
    """The app's per-address run rate limiter (``run_rate_per_address_per_minute``).

    The visitor key comes from cookies the client chooses; this one does not, so a client that
    forges a new cookie for every request is still held to its address's budget.
    """
    state = request.app.state
    if getattr(state, "run_address_limiter", None) is None:
        state.run_address_limiter = RateLimiter(state.settings.run_rate_per_address_per_minute, 60.0)
    return state.run_address_limiter


def run_budget(request: Request) -> float:
    """Count one run or submission for this visitor and address.

    Returns:
        0.0 when allowed, else the seconds to wait (the longer of the two limits).
    """
    address = f"ip:{request.client.host if request.client else 'unknown'}"
    return max(limiter(request).hit(visitor_key(request)), address_limiter(request).hit(address))


async def run_code(request: Request, body: RunRequest) -> JSONResponse:
    """Run ``body.code`` and return the result JSON (``docs/runner.md``).

    Answers 503 with ``Retry-After`` when every slot is busy and the queue is full,
    429 when this visitor runs too often, 503 when the runner is off.
    """
    from questlab.runner import RunnerBusy

    runner = request.app.state.runner
    if runner is None:
        return JSONResponse(
            {"status": "error", "message": "code running is turned off on this server"}, status_code=503
        )
    wait = run_budget(request)
    if wait:
        return busy_response(wait, f"too many runs in a minute; retry in {math.ceil(wait)} s", 429)
    try:
        result = await runner.run(body.code)
    except RunnerBusy as busy:
        request.app.state.metrics.runs.labels("busy").inc()
        return busy_response(busy.retry_after_s, "the runner is busy; retry in a few seconds", 503)
    request.app.state.metrics.runs.labels(result.status).inc()
    request.app.state.metrics.run_seconds.observe(result.duration_ms / 1000)
    body = result.to_json()
    body["message"] = localize_message(body.get("message"), request_locale(request))
    return JSONResponse(body)
