"""Problem reports on lessons: filing (signed in or not), triage by authors and admins."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from questlab.community.common import LessonRef, iso
from questlab.community.errors import Forbidden, Invalid, NotFound, RateLimited
from questlab.db.models import ProblemReport, User, utcnow

CATEGORIES = ("typo", "code-does-not-run", "wrong-explanation", "other")
"""Report categories, as sent by the form and the API."""
STATUSES = ("open", "resolved")
TRIAGE_ROLES = frozenset({"author", "admin"})
"""Roles that see and resolve reports."""
MAX_MESSAGE = 4000


def client_hash(secret: str, address: str) -> str:
    """A keyed hash of a visitor's IP address: rate limits without storing the address."""
    return hashlib.sha256(f"questlab-report:{secret}:{address}".encode()).hexdigest()


def file_report(
    session: Session,
    lesson: LessonRef,
    *,
    category: str,
    message: str,
    code_block: int | None,
    user: User | None,
    client: str,
    code_blocks: int,
    per_hour: int,
) -> ProblemReport:
    """Store a problem report.

    Args:
        lesson: the lesson reported on.
        category: one of :data:`CATEGORIES`.
        message: what is wrong (1 to 4000 characters).
        code_block: 0-based index of the code block concerned, or ``None``.
        user: the reporter, or ``None`` for a signed-out visitor.
        client: :func:`client_hash` of the visitor's address.
        code_blocks: number of code blocks in the lesson (to check ``code_block``).
        per_hour: reports allowed per account (or per address when signed out) per hour.

    Raises:
        Invalid: unknown category, empty or long message, no such code block.
        RateLimited: too many reports in the last hour.
    """
    if category not in CATEGORIES:
        raise Invalid(f"Unknown category {category!r}: choose one of {', '.join(CATEGORIES)}.")
    message = (message or "").strip()
    if not message:
        raise Invalid("Describe the problem in the message, please.")
    if len(message) > MAX_MESSAGE:
        raise Invalid(f"The message is {len(message)} characters long; the limit is {MAX_MESSAGE}.")
    if code_block is not None and not 0 <= code_block < code_blocks:
        raise Invalid(
            f"This lesson has {code_blocks} code block(s); there is no block number {code_block + 1}."
        )
    who = ProblemReport.user_id == user.id if user is not None else ProblemReport.client_hash == client
    recent = (
        session.scalar(
            select(func.count())
            .select_from(ProblemReport)
            .where(who, ProblemReport.created_at > utcnow() - timedelta(hours=1))
        )
        or 0
    )
    if recent >= per_hour:
        raise RateLimited(
            f"You sent {recent} reports in the last hour, the most allowed; please try again later.",
            retry_after=3600,
        )
    report = ProblemReport(
        quest=lesson.quest,
        chapter=lesson.chapter,
        lesson=lesson.lesson,
        category=category,
        message=message,
        code_block=code_block,
        user_id=user.id if user else None,
        client_hash=client,
        status="open",
    )
    session.add(report)
    session.flush()
    return report


def _check_triage(user: User | None) -> None:
    if user is None or user.role not in TRIAGE_ROLES:
        raise Forbidden("Only authors and admins can see and resolve problem reports.")


def list_reports(
    session: Session,
    user: User | None,
    *,
    quest: str | None = None,
    lesson: str | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Reports newest first, filtered by quest slug, lesson (``"chapter/lesson"``) and status.

    Each is a dict: ``id``, ``quest``, ``chapter``, ``lesson``, ``url``, ``category``, ``message``,
    ``code_block``, ``reporter`` (display name or ``None``), ``status``, ``resolution_note``,
    ``resolved_by``, ``created_at``, ``resolved_at``.

    Raises:
        Forbidden: not an author or admin.
    """
    _check_triage(user)
    query = (
        select(ProblemReport).order_by(ProblemReport.created_at.desc(), ProblemReport.id.desc()).limit(limit)
    )
    if quest:
        query = query.where(ProblemReport.quest == quest)
    if lesson:
        chapter_slug, _, lesson_slug = lesson.partition("/")
        query = query.where(ProblemReport.chapter == chapter_slug, ProblemReport.lesson == lesson_slug)
    if status in STATUSES:
        query = query.where(ProblemReport.status == status)
    reports = list(session.scalars(query))
    ids = {r.user_id for r in reports} | {r.resolved_by for r in reports}
    names: dict[int, str] = {}
    if ids - {None}:
        names = {
            uid: name
            for uid, name in session.execute(
                select(User.id, User.display_name).where(User.id.in_(ids - {None}))
            )
        }
    return [
        {
            "id": r.id,
            "quest": r.quest,
            "chapter": r.chapter,
            "lesson": r.lesson,
            "url": f"/quests/{r.quest}/{r.chapter}/{r.lesson}/",
            "category": r.category,
            "message": r.message,
            "code_block": r.code_block,
            "reporter": names.get(r.user_id) if r.user_id else None,
            "status": r.status,
            "resolution_note": r.resolution_note,
            "resolved_by": names.get(r.resolved_by) if r.resolved_by else None,
            "created_at": iso(r.created_at),
            "resolved_at": iso(r.resolved_at),
        }
        for r in reports
    ]


def resolve_report(session: Session, user: User | None, report_id: int, note: str) -> ProblemReport:
    """Mark a report resolved with a note (what was done).

    Raises:
        Forbidden: not an author or admin.
        NotFound: no such report.
        Invalid: note longer than 4000 characters.
    """
    _check_triage(user)
    assert user is not None
    report = session.get(ProblemReport, report_id)
    if report is None:
        raise NotFound(f"There is no report {report_id}.")
    note = (note or "").strip()
    if len(note) > MAX_MESSAGE:
        raise Invalid(f"The note is {len(note)} characters long; the limit is {MAX_MESSAGE}.")
    report.status = "resolved"
    report.resolution_note = note or None
    report.resolved_by = user.id
    report.resolved_at = utcnow()
    return report


def open_counts(session: Session, quest: str) -> dict[str, int]:
    """Open reports per lesson of ``quest``, keyed ``"chapter/lesson"`` (lessons with none are absent)."""
    rows = session.execute(
        select(ProblemReport.chapter, ProblemReport.lesson, func.count())
        .where(ProblemReport.quest == quest, ProblemReport.status == "open")
        .group_by(ProblemReport.chapter, ProblemReport.lesson)
    ).all()
    return {f"{chapter}/{lesson}": count for chapter, lesson, count in rows}
