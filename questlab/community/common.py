"""Shared pieces of the community part: lesson references, roles, timestamps, member standing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from questlab.db.models import Comment, MemberStanding

STAFF_ROLES = frozenset({"author", "moderator", "admin"})
"""Roles that see hidden comments (greyed) on every lesson."""
MODERATOR_ROLES = frozenset({"moderator", "admin"})
"""Roles that hide comments and suspend accounts."""


@dataclass(frozen=True)
class LessonRef:
    """Where a discussion lives: the lesson's slugs, plus its title and URL for notifications."""

    quest: str
    chapter: str
    lesson: str
    title: str = ""
    url: str = ""

    def where(self) -> tuple[Any, ...]:
        """SQL conditions selecting this lesson's comments."""
        return (Comment.quest == self.quest, Comment.chapter == self.chapter, Comment.lesson == self.lesson)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (SQLite hands back naive ones)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, or ``None``."""
    return as_utc(moment).isoformat().replace("+00:00", "Z") if moment else None


def standing(session: Session, user_id: int) -> MemberStanding:
    """The community standing row of ``user_id``, created on first use."""
    row = session.get(MemberStanding, user_id)
    if row is None:
        row = MemberStanding(user_id=user_id, email_replies=False)
        session.add(row)
        session.flush()
    return row


def is_suspended(session: Session, user_id: int) -> bool:
    """Whether a moderator suspended ``user_id``."""
    row = session.get(MemberStanding, user_id)
    return row is not None and row.suspended_at is not None
