"""What a graded submission earns, and what is kept of it: attempts, first try, XP, tokens, history, drafts.

The submit handler (``questlab.web.exercises``) only translates HTTP; every
decision about progress is here.

First try is decided on the server. For a signed-in learner the number of
graded submissions per exercise is kept in the database (an ``attempts``
progress fact), so clearing cookies changes nothing. For a visitor it comes
from a signed cookie: per exercise (a short hash of quest and lesson key) the
number of graded submissions and whether one passed. A submission is a first
try when none was counted before it. A visitor who clears cookies starts over:
the cookie carries no identity, and all it can fool is that browser's own
progress.

A pass completes its lesson: passing the exercise is what finishing a lesson
with one means, so such lessons need no "Mark this lesson as done". For a
signed-in learner the completion is recorded here with the pass; a visitor's
browser records it in its local progress when it keeps the completion token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from questlab.content.model import Quest
from questlab.db.models import ExerciseDraft, Submission, utcnow
from questlab.progress.store import record_exercise_attempt, record_exercise_pass, record_lesson_completed
from questlab.progress.tokens import sign_exercise_pass

#: Exercises remembered in the visitor's attempts cookie (oldest forgotten first), to stay under 4 KB.
ATTEMPTS_MAX = 150
#: Longest draft kept, in characters (the submit endpoint's code limit).
DRAFT_MAX_CHARS = 100_000


def _sign(secret: str, payload: str) -> str:
    message = b"questlab attempts v1\x00" + payload.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def exercise_hash(quest: str, lesson_key: str) -> str:
    """Short stable key of an exercise in the attempts cookie (10 hex digits of SHA-256)."""
    return hashlib.sha256(f"{quest}/{lesson_key}".encode()).hexdigest()[:10]


def decode_attempts(raw: str, secret: str) -> dict[str, list[int]]:
    """The visitor's ``{exercise hash: [attempts, passed]}`` from the cookie value; empty when missing or
    tampered with (the HMAC-SHA256 signature under ``secret`` does not match)."""
    payload, _, signature = (raw or "").rpartition(".")
    if not payload or not hmac.compare_digest(_sign(secret, payload), signature):
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        return {str(k): [int(v[0]), int(v[1])] for k, v in data.items()}
    except (ValueError, TypeError, IndexError, AttributeError):
        return {}


def encode_attempts(attempts: dict[str, list[int]], secret: str) -> str:
    """The signed cookie value for ``attempts`` (the newest :data:`ATTEMPTS_MAX` exercises)."""
    items = list(attempts.items())[-ATTEMPTS_MAX:]
    payload = base64.urlsafe_b64encode(json.dumps(dict(items), separators=(",", ":")).encode()).decode()
    return f"{payload}.{_sign(secret, payload)}"


def exercise_xp(quest: Quest, first_try: bool) -> int:
    """XP for a visitor's first pass: the quest's ``[xp] exercise``, plus the first-try bonus."""
    xp = quest.config.xp
    return int(xp.exercise + (xp.first_try_bonus if first_try else 0))


@dataclass
class Award:
    """What one graded submission earned.

    Attributes:
        xp: XP awarded now (0 for a fail, or a pass after an earlier one). A signed-in learner's
            includes the lesson's completion and the day's first activity; a visitor's is the
            exercise's alone (their browser scores the rest).
        first_try: this passing submission was the first graded one.
        attempts: graded submissions of the exercise, this one included.
        completion_token: a visitor's signed proof of the pass (merged into an account later), or ``None``.
        lesson_completed: the submission passed, so the lesson counts as completed: stored for a
            signed-in learner, to be kept in the browser's local progress for a visitor.
    """

    xp: int
    first_try: bool
    attempts: int
    completion_token: str | None
    lesson_completed: bool = False


def award_submission(
    session: Session | None,
    user_id: int | None,
    quest: Quest,
    lesson_key: str,
    passed: bool,
    visitor_attempts: dict[str, list[int]],
    secret: str,
    now: datetime | None = None,
) -> Award:
    """Count a graded submission and award what it earns.

    Args:
        session: a database session (needed when ``user_id`` is set).
        user_id: the signed-in learner, or ``None`` for a visitor.
        quest, lesson_key: the exercise (``<chapter>/<lesson>``).
        passed: the verdict, decided where learner code never ran.
        visitor_attempts: the decoded attempts cookie; updated in place with this submission.
        secret: the site's secret key, for the completion token.
        now: the time of the pass (default: now).

    Returns:
        The :class:`Award`. A signed-in learner's count lives on the server (the cookie can only
        raise it, never reset it), and a pass also records the lesson as completed; a visitor gets
        XP only on their first pass and a token for it.
    """
    key = exercise_hash(quest.slug, lesson_key)
    before, passed_before = visitor_attempts.pop(key, [0, 0])
    visitor_attempts[key] = [before + 1, int(passed_before or passed)]
    xp, token = 0, None
    if user_id is not None:
        assert session is not None
        before = max(before, record_exercise_attempt(session, user_id, quest, lesson_key))
        first_try = before == 0
        if passed:
            xp = record_exercise_pass(session, user_id, quest, lesson_key, first_try)
            xp += record_lesson_completed(session, user_id, quest, lesson_key)
    else:
        first_try = before == 0
        if passed:
            xp = 0 if passed_before else exercise_xp(quest, first_try)
            token = sign_exercise_pass(secret, quest.slug, lesson_key, first_try, now or datetime.now(UTC))
    return Award(xp, first_try and passed, before + 1, token, lesson_completed=passed)


# -- submissions ----------------------------------------------------------------------------------------


def _diagnoses(results: dict[str, Any]) -> str:
    names = [
        t.get("diagnosis") for t in results.get("tests", []) if isinstance(t, dict) and t.get("diagnosis")
    ]
    return ",".join(dict.fromkeys(str(n) for n in names))[:500]


def record_submission(
    session: Session,
    user_id: int,
    quest: str,
    lesson_key: str,
    code: str,
    results: dict[str, Any],
    duration_ms: int,
    checks_version: str,
) -> int:
    """Keep a signed-in learner's graded submission; return its id.

    Args:
        results: the results JSON as shown to the learner (``status``, ``tests``, ...).
        duration_ms: submit-to-verdict time in milliseconds.
        checks_version: :func:`questlab.grading.judge.bank.exercise_key` of the exercise.
    """
    row = Submission(
        user_id=user_id,
        quest=quest,
        lesson_key=lesson_key,
        code=code,
        status=str(results.get("status", "error"))[:10],
        results_json=json.dumps(results, ensure_ascii=False),
        diagnoses=_diagnoses(results),
        duration_ms=int(duration_ms),
        checks_version=checks_version[:200],
    )
    session.add(row)
    session.flush()
    return row.id


def _summary(row: Submission) -> dict[str, Any]:
    results = json.loads(row.results_json)
    tests = [t for t in results.get("tests", []) if isinstance(t, dict)]
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "status": row.status,
        "passed": sum(1 for t in tests if t.get("status") == "pass"),
        "total": len(tests),
        "diagnoses": [d for d in row.diagnoses.split(",") if d],
        "regraded": row.regraded_at is not None,
    }


def list_submissions(
    session: Session, user_id: int, quest: str, lesson_key: str, limit: int = 50
) -> list[dict[str, Any]]:
    """The learner's newest submissions of one exercise: ``[{"id", "created_at", "status", "passed",
    "total", "diagnoses", "regraded"}]``, newest first."""
    rows = session.scalars(
        select(Submission)
        .where(Submission.user_id == user_id, Submission.quest == quest, Submission.lesson_key == lesson_key)
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(limit)
    ).all()
    return [_summary(row) for row in rows]


def get_submission(session: Session, user_id: int, submission_id: int) -> dict[str, Any] | None:
    """One of the learner's own submissions with its ``code`` and ``results``; ``None`` when it is not
    theirs or does not exist."""
    row = session.get(Submission, submission_id)
    if row is None or row.user_id != user_id:
        return None
    return {
        **_summary(row),
        "quest": row.quest,
        "lesson_key": row.lesson_key,
        "code": row.code,
        "results": json.loads(row.results_json),
    }


# -- drafts -----------------------------------------------------------------------------------------------


def save_draft(session: Session, user_id: int, quest: str, lesson_key: str, code: str) -> datetime:
    """Keep the learner's editor draft of an exercise (one per exercise); return its time.

    Raises:
        ValueError: when ``code`` is longer than :data:`DRAFT_MAX_CHARS`.
    """
    if len(code) > DRAFT_MAX_CHARS:
        raise ValueError(f"a draft holds at most {DRAFT_MAX_CHARS} characters")
    row = session.scalars(
        select(ExerciseDraft).where(
            ExerciseDraft.user_id == user_id,
            ExerciseDraft.quest == quest,
            ExerciseDraft.lesson_key == lesson_key,
        )
    ).first()
    now = utcnow()
    if row is None:
        session.add(
            ExerciseDraft(user_id=user_id, quest=quest, lesson_key=lesson_key, code=code, updated_at=now)
        )
    else:
        row.code, row.updated_at = code, now
    return now


def load_draft(session: Session, user_id: int, quest: str, lesson_key: str) -> dict[str, Any] | None:
    """``{"code", "updated_at"}`` of the learner's draft, or ``None``."""
    row = session.scalars(
        select(ExerciseDraft).where(
            ExerciseDraft.user_id == user_id,
            ExerciseDraft.quest == quest,
            ExerciseDraft.lesson_key == lesson_key,
        )
    ).first()
    return None if row is None else {"code": row.code, "updated_at": row.updated_at.isoformat()}
