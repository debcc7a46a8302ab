"""``POST /api/quests/{quest}/{chapter}/{lesson}/submit``: grade a submission, award XP, sign the pass.

First try is decided on the server. For a signed-in learner the number of
graded submissions per exercise is kept in the database (an ``attempts``
progress fact), so clearing cookies changes nothing. For a visitor it comes
from a signed cookie, ``questlab_attempts``: per exercise (a short hash of
quest and lesson key) the number of graded submissions and whether one passed.
A submission is a first try when none was counted before it. Runner refusals
(busy, rate limit) do not count. A visitor who clears cookies starts over: the
cookie carries no identity, and all it can fool is that browser's own progress.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from questlab.accounts.deps import current_user
from questlab.content.model import Quest
from questlab.grading.judge.bank import GraderBroken
from questlab.grading.judge.grade import ChecksBroken
from questlab.grading.judge.harness import probe_harness
from questlab.grading.judge.results import RESULTS_VERSION, grade, syntax_results
from questlab.grading.messages import localize
from questlab.progress.store import record_exercise_attempt, record_exercise_pass
from questlab.progress.tokens import sign_exercise_pass
from questlab.web.api_run import MAX_CODE_CHARS, run_budget
from questlab.web.pages import get_lesson, request_locale

log = logging.getLogger("questlab.grading")

ATTEMPTS_COOKIE = "questlab_attempts"
#: Exercises remembered in the cookie (oldest forgotten first) to stay under browsers' 4 KB.
ATTEMPTS_MAX = 150


class Submission(BaseModel):
    """Body of a submit request."""

    code: str = Field(max_length=MAX_CODE_CHARS, description="The learner's whole program.")
    locale: Literal["ko", "en"] | None = Field(default=None, description="Language of the messages.")


def _sign(secret: str, payload: str) -> str:
    message = b"questlab attempts v1\x00" + payload.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def exercise_xp(quest: Quest, first_try: bool) -> int:
    """XP for a visitor's first pass: the quest's ``[xp] exercise``, plus the first-try bonus."""
    xp = quest.config.xp
    return int(xp.exercise + (xp.first_try_bonus if first_try else 0))


def read_attempts(request: Request) -> dict[str, list[int]]:
    """The visitor's ``{exercise hash: [attempts, passed]}``; empty when missing or tampered with."""
    raw = request.cookies.get(ATTEMPTS_COOKIE, "")
    payload, _, signature = raw.rpartition(".")
    if not payload or not hmac.compare_digest(_sign(request.app.state.secret_key, payload), signature):
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        return {str(k): [int(v[0]), int(v[1])] for k, v in data.items()}
    except (ValueError, TypeError, IndexError, AttributeError):
        return {}


def write_attempts(request: Request, response: JSONResponse, attempts: dict[str, list[int]]) -> None:
    """Store ``attempts`` in the signed cookie."""
    items = list(attempts.items())[-ATTEMPTS_MAX:]
    payload = base64.urlsafe_b64encode(json.dumps(dict(items), separators=(",", ":")).encode()).decode()
    response.set_cookie(
        ATTEMPTS_COOKIE,
        f"{payload}.{_sign(request.app.state.secret_key, payload)}",
        max_age=365 * 86400,
        samesite="lax",
        httponly=True,
        secure=request.app.state.settings.https,
    )


def exercise_hash(quest: str, lesson_key: str) -> str:
    """Short stable key of an exercise in the attempts cookie."""
    return hashlib.sha256(f"{quest}/{lesson_key}".encode()).hexdigest()[:10]


async def submit(
    request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str, body: Submission
) -> JSONResponse:
    """Grade ``body.code`` against the lesson's checks.

    Returns:
        The grading results JSON (docs/grading.md) plus ``xp_awarded``, ``first_try``,
        ``attempts`` and ``completion_token`` (a signed token for a visitor's pass, else null).
        404 when the lesson has no graded exercise; 503 when the runner is off or busy.
    """
    quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    exercise = lesson.exercise
    if exercise is None or not exercise.graded:
        raise HTTPException(404, "this lesson has no graded exercise")
    locale = body.locale or request_locale(request)
    runner = request.app.state.runner
    if runner is None:
        raise HTTPException(503, "the code runner is not running on this server")
    from questlab.runner import RunnerBusy

    wait = run_budget(request)  # one budget for runs and submissions
    if wait:
        seconds = max(1, round(wait))
        refused = {
            "version": RESULTS_VERSION,
            "status": "error",
            "locale": locale,
            "tests": [],
            "message": localize("rate_limited", {"seconds": seconds}, locale),
        }
        return JSONResponse(refused, status_code=429, headers={"Retry-After": str(seconds)})

    results = syntax_results(body.code, locale)  # decided here: nothing needs to run
    if results is None:
        bank = request.app.state.grading_bank
        seed, entry_task = bank.take(exercise)
        try:
            result = await runner.run(body.code, harness=probe_harness(exercise.probe, seed))
        except RunnerBusy as busy:
            refused = {
                "version": RESULTS_VERSION,
                "status": "error",
                "locale": locale,
                "tests": [],
                "message": localize("run_busy", None, locale),
            }
            retry = str(max(1, round(busy.retry_after_s)))
            return JSONResponse(refused, status_code=503, headers={"Retry-After": retry})
        try:
            entry = await entry_task
        except (GraderBroken, ChecksBroken, RunnerBusy) as broken:
            log.error("the reference evidence of %s/%s cannot be made: %s", quest.slug, lesson.key, broken)
            refused = {
                "version": RESULTS_VERSION,
                "status": "error",
                "locale": locale,
                "tests": [],
                "message": localize("grader_broken", None, locale),
            }
            return JSONResponse(refused, status_code=500)
        finally:
            bank.warm(exercise)  # the next submission's seed, made after this one's run
        results = grade(exercise, entry, result, body.code, locale)
        if grader_error := results.pop("grader_error", None):
            log.error("checks of %s/%s failed:\n%s", quest.slug, lesson.key, grader_error)

    attempts = read_attempts(request)
    key = exercise_hash(quest.slug, lesson.key)
    before, passed_before = attempts.pop(key, [0, 0])
    passed = results["status"] == "pass"
    attempts[key] = [before + 1, int(passed_before or passed)]

    xp, token = 0, None
    user = current_user(request)
    if user is not None:
        # A signed-in learner's count lives on the server; the cookie can only raise it, never reset it.
        with request.app.state.db.session() as session:
            before = max(before, record_exercise_attempt(session, user.id, quest, lesson.key))
            first_try = before == 0
            if passed:
                xp = record_exercise_pass(session, user.id, quest, lesson.key, first_try)
    else:
        first_try = before == 0
        if passed:
            xp = 0 if passed_before else exercise_xp(quest, first_try)
            token = sign_exercise_pass(
                request.app.state.secret_key, quest.slug, lesson.key, first_try, datetime.now(UTC)
            )
    results.update(xp_awarded=xp, first_try=first_try and passed, attempts=before + 1, completion_token=token)
    response = JSONResponse(results)
    write_attempts(request, response, attempts)
    return response
