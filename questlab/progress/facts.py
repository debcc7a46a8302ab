"""Progress facts and their merge: the pure core that the database store and the sync both follow.

A learner's progress in a quest is a set of facts keyed by ``(kind, key)``. Merging two sets is a
union; when both hold the same fact, :func:`combine` keeps the earliest day, the largest count and
any first-try flag. Both operations are idempotent, commutative and associative, so syncing the
same browser twice, or two browsers in any order, gives the same result and counts nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

KINDS = ("lesson", "exercise", "code_runs", "comment", "day", "attempts")


@dataclass(frozen=True)
class Fact:
    """One thing a learner did.

    Attributes:
        kind: one of :data:`KINDS`.
        key: identity within the kind: lesson key, pass nonce, ``<device>:<day>``, comment id, or the day.
        day: the learner's calendar day (``YYYY-MM-DD``, their time zone) it happened on.
        lesson_key: the lesson of an exercise pass.
        first_try: whether an exercise pass was the first submission.
        count: code runs on that device and day (1 for other kinds).
    """

    kind: str
    key: str
    day: str
    lesson_key: str | None = None
    first_try: bool | None = None
    count: int = 1


FactSet = dict[tuple[str, str], Fact]


def _first(a: str | None, b: str | None) -> str | None:
    present = [value for value in (a, b) if value is not None]
    return min(present) if present else None


def combine(a: Fact, b: Fact) -> Fact:
    """Merge two records of the same fact: earliest day, largest count, first try if either says so."""
    first_try = None if a.first_try is None and b.first_try is None else bool(a.first_try or b.first_try)
    return replace(
        a,
        day=min(a.day, b.day),
        count=max(a.count, b.count),
        first_try=first_try,
        lesson_key=_first(a.lesson_key, b.lesson_key),
    )


def merge(*sets: Mapping[tuple[str, str], Fact]) -> FactSet:
    """Union of fact sets (see the module docstring for the laws it keeps)."""
    merged: FactSet = {}
    for facts in sets:
        for identity, fact in facts.items():
            merged[identity] = combine(merged[identity], fact) if identity in merged else fact
    return merged


def fact_set(facts: Iterable[Fact]) -> FactSet:
    """Build a fact set from facts, merging repeats."""
    return merge(*({(f.kind, f.key): f} for f in facts))


def zone(name: str | None) -> ZoneInfo:
    """The time zone ``name`` (IANA, e.g. ``Asia/Seoul``); UTC when missing or unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(moment: datetime, time_zone: str | None) -> str:
    """The calendar day (``YYYY-MM-DD``) of ``moment`` in ``time_zone`` (naive moments are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(time_zone)).date().isoformat()


def parse_day(text: str) -> date | None:
    """``date`` for a ``YYYY-MM-DD`` string, or ``None`` when it is not one."""
    if not isinstance(text, str) or len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
