"""Exercise endpoints: submit for grading, the learner's submission history, and the synced editor draft.

``POST /api/quests/{quest}/{chapter}/{lesson}/submit`` grades a submission
(questlab.grading.judge: observations from the sandbox, verdicts here) and lets
:mod:`questlab.progress.exercises` decide attempts, first try, XP and the
completion token. This module only translates HTTP.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from questlab.accounts.deps import current_user
from questlab.db.models import User
from questlab.grading.judge.bank import GraderBroken, exercise_key
from questlab.grading.judge.grade import ChecksBroken
from questlab.grading.judge.harness import probe_harness
from questlab.grading.judge.results import RESULTS_VERSION, grade, syntax_results
from questlab.grading.messages import localize
from questlab.progress.exercises import (
    DRAFT_MAX_CHARS,
    award_submission,
    decode_attempts,
    encode_attempts,
    get_submission,
    list_submissions,
    load_draft,
    record_submission,
    save_draft,
)
from questlab.web.api_run import MAX_CODE_CHARS, client_address, run_budget
from questlab.web.pagekit import get_lesson, request_locale

log = logging.getLogger("questlab.grading")

ATTEMPTS_COOKIE = "questlab_attempts"


class Submission(BaseModel):
    """Body of a submit request."""

    code: str = Field(max_length=MAX_CODE_CHARS, description="The learner's whole program.")
    locale: Literal["ko", "en"] | None = Field(default=None, description="Language of the messages.")


class Draft(BaseModel):
    """Body of a draft update."""

    code: str = Field(max_length=DRAFT_MAX_CHARS, description="The editor's content.")


def _refused(message: str, locale: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"version": RESULTS_VERSION, "status": "error", "locale": locale, "tests": [], "message": message}
    return JSONResponse(body, status_code=status, headers=headers)


async def _judge(
    request: Request, quest: Any, lesson: Any, code: str, locale: str
) -> dict[str, Any] | JSONResponse:
    """The results JSON for ``code``, or a refusal response (busy, grader broken)."""
    from questlab.runner import RunnerBusy, RunnerStarting

    results = syntax_results(code, locale)  # decided here: nothing needs to run
    if results is not None:
        return results
    exercise = lesson.exercise
    bank = request.app.state.grading_bank
    # Without a ready entry the submission waits for the reference's and the mistakes' trusted
    # runs behind every other exercise's: past the longest wait a run is queued for, say "busy".
    limit = request.app.state.settings.runner_max_wait_s
    if not bank.ready(exercise) and (wait := bank.expected_wait_s()) > limit:
        retry = str(max(1, math.ceil(wait)))
        return _refused(localize("run_busy", None, locale), locale, 503, {"Retry-After": retry})
    seed, entry_task = bank.take(exercise)
    try:
        result = await request.app.state.runner.run(
            code,
            harness=probe_harness(exercise.probe, seed),
            owner=client_address(request),
            capability=exercise.requires,
        )
        entry = await entry_task
    except RunnerBusy as busy:  # RunnerStarting too: the runner still warms up after the start
        from questlab.runner import RunnerUnavailable
        from questlab.web.api_run import unavailable_sentence

        entry_task.cancel()
        retry = str(max(1, math.ceil(busy.retry_after_s)))
        if isinstance(busy, RunnerUnavailable):
            message = unavailable_sentence(busy, locale)
        elif isinstance(busy, RunnerStarting):
            message = localize("run_warming_up", {"seconds": retry}, locale)
        else:
            message = localize("run_busy", None, locale)
        return _refused(message, locale, 503, {"Retry-After": retry})
    except (GraderBroken, ChecksBroken) as broken:
        log.error("the reference evidence of %s/%s cannot be made: %s", quest.slug, lesson.key, broken)
        return _refused(localize("grader_broken", None, locale), locale, 500)
    finally:
        bank.warm(exercise)  # the next submission's seed, made after this one's run
    results = grade(exercise, entry, result, code, locale)
    if grader_error := results.pop("grader_error", None):
        log.error("checks of %s/%s failed:\n%s", quest.slug, lesson.key, grader_error)
    return results


async def submit(
    request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str, body: Submission
) -> JSONResponse:
    """Grade ``body.code`` against the lesson's checks.

    Returns:
        The grading results JSON (docs/grading.md) plus ``xp_awarded``, ``first_try``,
        ``attempts``, ``completion_token`` (a signed token for a visitor's pass, else null),
        ``lesson_completed`` (true on a pass: the lesson now counts as completed) and
        ``submission_id`` (a signed-in learner's stored submission, else null).
        404 when the lesson has no graded exercise; 503 when the runner is off or busy;
        429 over the run budget.
    """
    quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    exercise = lesson.exercise
    if exercise is None or not exercise.graded:
        raise HTTPException(404, "this lesson has no graded exercise")
    locale = body.locale or request_locale(request)
    runner = request.app.state.runner
    if runner is None:
        raise HTTPException(503, "the code runner is not running on this server")
    if runner.starting:  # warming up after the server started: not counted against the budget
        retry = str(max(1, math.ceil(runner.start_retry_after())))
        message = localize("run_warming_up", {"seconds": retry}, locale)
        return _refused(message, locale, 503, {"Retry-After": retry})
    wait = await run_budget(request)  # one budget for runs and submissions
    if wait:
        seconds = max(1, round(wait))
        message = localize("rate_limited", {"seconds": seconds}, locale)
        return _refused(message, locale, 429, {"Retry-After": str(seconds)})

    started = time.perf_counter()
    results = await _judge(request, quest, lesson, body.code, locale)
    if isinstance(results, JSONResponse):
        return results
    duration_ms = round((time.perf_counter() - started) * 1000)
    secret = request.app.state.secret_key
    attempts = decode_attempts(request.cookies.get(ATTEMPTS_COOKIE, ""), secret)
    passed = results["status"] == "pass"
    user = current_user(request)
    submission_id = None
    if user is not None:
        with request.app.state.db.session() as session:
            award = award_submission(session, user.id, quest, lesson.key, passed, attempts, secret)
            submission_id = record_submission(
                session,
                user.id,
                quest.slug,
                lesson.key,
                body.code,
                results,
                duration_ms,
                exercise_key(exercise),
            )
    else:
        award = award_submission(None, None, quest, lesson.key, passed, attempts, secret)
    results.update(
        xp_awarded=award.xp,
        first_try=award.first_try,
        attempts=award.attempts,
        completion_token=award.completion_token,
        lesson_completed=award.lesson_completed,
        submission_id=submission_id,
    )
    response = JSONResponse(results)
    response.set_cookie(
        ATTEMPTS_COOKIE,
        encode_attempts(attempts, secret),
        max_age=365 * 86400,
        samesite="lax",
        httponly=True,
        secure=request.app.state.settings.https,
    )
    return response


def _signed_in(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise HTTPException(401, "sign in to keep submissions and drafts")
    return user


async def submissions(request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str) -> JSONResponse:
    """``GET .../submissions``: the signed-in learner's submissions of this exercise, newest first
    (``{"submissions": [{"id", "created_at", "status", "passed", "total", "diagnoses", "regraded"}]}``).
    401 when signed out."""
    quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    user = _signed_in(request)
    with request.app.state.db.session() as session:
        return JSONResponse({"submissions": list_submissions(session, user.id, quest.slug, lesson.key)})


async def submission(request: Request, submission_id: int) -> JSONResponse:
    """``GET /api/submissions/{id}``: one of the learner's own submissions with ``code`` and ``results``.
    404 for anyone else's (and for unknown ids), 401 when signed out."""
    user = _signed_in(request)
    with request.app.state.db.session() as session:
        found = get_submission(session, user.id, submission_id)
    if found is None:
        raise HTTPException(404)
    return JSONResponse(found)


async def get_draft(request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str) -> JSONResponse:
    """``GET .../draft``: ``{"draft": {"code", "updated_at"} | null}`` of the signed-in learner."""
    quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    user = _signed_in(request)
    with request.app.state.db.session() as session:
        return JSONResponse({"draft": load_draft(session, user.id, quest.slug, lesson.key)})


async def put_draft(
    request: Request, quest_slug: str, chapter_slug: str, lesson_slug: str, body: Draft
) -> JSONResponse:
    """``PUT .../draft``: keep the editor's content for the signed-in learner; ``{"updated_at"}``."""
    quest, lesson = get_lesson(request, quest_slug, chapter_slug, lesson_slug)
    if lesson.exercise is None:
        raise HTTPException(404, "this lesson has no exercise")
    user = _signed_in(request)
    with request.app.state.db.session() as session:
        at = save_draft(session, user.id, quest.slug, lesson.key, body.code)
    return JSONResponse({"updated_at": at.isoformat()})
