"""Progress in the database: recording events for signed-in learners and merging browser progress.

Functions take the caller's SQLAlchemy ``Session`` and do not commit.

One learner may write from several places at once (two tabs syncing, a sync beside a graded
submission, several web processes). Every function here that writes a learner's facts first takes
:func:`lock_learner`, so their read-score-write steps run one after another per learner and XP is
awarded exactly once; exercise nonces are claimed with ``INSERT ... ON CONFLICT DO NOTHING``, so two
accounts merging one token at once end with one owner and a rejection instead of an error.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from questlab.content.model import Quest
from questlab.db.models import ExerciseNonce, ProgressFact, User
from questlab.progress.engine import QuestProgress, evaluate
from questlab.progress.facts import Fact, FactSet, combine, fact_set, local_day, parse_day, zone
from questlab.progress.tokens import verify_exercise_pass

DEVICE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_ITEMS = 5000


def lock_learner(session: Session, user_id: int) -> None:
    """Hold the learner's progress lock until the session's transaction ends (idempotent within it).

    PostgreSQL: ``SELECT ... FOR NO KEY UPDATE`` of the learner's ``users`` row, which waits for
    another transaction holding it and does not conflict with the key-share locks that foreign key
    checks take. SQLite: an update of the row that changes nothing, which opens the transaction and
    takes the database's single write lock now (waiting up to the busy timeout), so the reads after it
    see every committed write. Other databases: nothing.

    Args:
        session: the caller's session; its transaction holds the lock.
        user_id: the learner.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))
    elif dialect == "sqlite":
        users = User.__table__
        session.execute(update(users).where(users.c.id == user_id).values(time_zone=users.c.time_zone))


def _claim_nonces(session: Session, user_id: int, nonces: Iterable[str]) -> dict[str, int]:
    """Record ``user_id`` as the owner of each nonce nobody owns yet; return every nonce's owner.

    Raises:
        NotImplementedError: on a database other than SQLite and PostgreSQL.
    """
    nonces = list(nonces)
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"exercise nonces cannot be claimed on {dialect}")
    rows = [{"nonce": nonce, "user_id": user_id} for nonce in nonces]
    session.execute(insert(ExerciseNonce).values(rows).on_conflict_do_nothing(index_elements=["nonce"]))
    return dict(
        session.execute(
            select(ExerciseNonce.nonce, ExerciseNonce.user_id).where(ExerciseNonce.nonce.in_(nonces))
        ).all()
    )


def _row_fact(row: ProgressFact) -> Fact:
    return Fact(
        kind=row.kind,
        key=row.key,
        day=row.day,
        lesson_key=row.lesson_key,
        first_try=row.first_try,
        count=row.count,
    )


def load_facts(session: Session, user_id: int, quest: str) -> FactSet:
    """The stored facts of ``user_id`` in quest ``quest`` (slug)."""
    rows = session.scalars(
        select(ProgressFact).where(ProgressFact.user_id == user_id, ProgressFact.quest == quest)
    )
    return fact_set(_row_fact(row) for row in rows)


def add_facts(session: Session, user_id: int, quest: str, facts: Iterable[Fact]) -> None:
    """Merge ``facts`` into the stored set (union; a stored fact is combined, never duplicated).

    Takes :func:`lock_learner` first, so a concurrent writer of the same learner waits.
    """
    incoming = fact_set(facts)
    if not incoming:
        return
    lock_learner(session, user_id)
    rows = {
        (row.kind, row.key): row
        for row in session.scalars(
            select(ProgressFact).where(ProgressFact.user_id == user_id, ProgressFact.quest == quest)
        )
    }
    for identity, fact in incoming.items():
        row = rows.get(identity)
        if row is None:
            session.add(
                ProgressFact(
                    user_id=user_id,
                    quest=quest,
                    kind=fact.kind,
                    key=fact.key,
                    day=fact.day,
                    lesson_key=fact.lesson_key,
                    first_try=fact.first_try,
                    count=fact.count,
                )
            )
            continue
        merged = combine(_row_fact(row), fact)
        row.day, row.count, row.first_try, row.lesson_key = (
            merged.day,
            merged.count,
            merged.first_try,
            merged.lesson_key,
        )
    session.flush()


def progress(session: Session, user: User, quest: Quest) -> QuestProgress:
    """The scored progress of ``user`` in ``quest`` (current streak as of their today)."""
    today = local_day(datetime.now(UTC), user.time_zone)
    return evaluate(quest, load_facts(session, user.id, quest.slug), today)


def _record(session: Session, user_id: int, quest: Quest, facts: list[Fact]) -> int:
    user = session.get(User, user_id)
    if user is None:
        raise ValueError(f"no user with id {user_id}")
    lock_learner(session, user_id)  # before the first read: the XP before and after are ours alone
    before = evaluate(quest, load_facts(session, user_id, quest.slug)).xp
    day = facts[0].day
    add_facts(session, user_id, quest.slug, [*facts, Fact("day", day, day)])
    return evaluate(quest, load_facts(session, user_id, quest.slug)).xp - before


def _today(session: Session, user_id: int, at: datetime | None = None) -> str:
    user = session.get(User, user_id)
    return local_day(at or datetime.now(UTC), user.time_zone if user else None)


def record_exercise_pass(
    session: Session, user_id: int, quest: Quest, lesson_key: str, first_try: bool
) -> int:
    """Record an exercise pass by a signed-in learner (the grading endpoint calls this); return XP awarded.

    ``quest`` is the content model's :class:`~questlab.content.model.Quest` (its slug keys the
    record; its ``[xp]`` scores it). Passing an exercise again awards nothing more, except the
    first-try bonus if this is the first first-try pass.
    """
    nonce = secrets.token_urlsafe(16)
    session.add(ExerciseNonce(nonce=nonce, user_id=user_id))
    day = _today(session, user_id)
    return _record(
        session,
        user_id,
        quest,
        [Fact("exercise", nonce, day, lesson_key=lesson_key, first_try=bool(first_try))],
    )


def record_exercise_attempt(session: Session, user_id: int, quest: Quest, lesson_key: str) -> int:
    """Count one graded submission of ``lesson_key`` by a signed-in learner; return the count before it.

    Kept as an ``attempts`` fact (key: the lesson key, ``count``: submissions so far), which scores
    nothing and which browser sync cannot send, so the first-try bonus of a signed-in learner does not
    depend on their cookies.
    """
    lock_learner(session, user_id)  # two submissions at once count two attempts, one of them first
    row = session.scalars(
        select(ProgressFact).where(
            ProgressFact.user_id == user_id,
            ProgressFact.quest == quest.slug,
            ProgressFact.kind == "attempts",
            ProgressFact.key == lesson_key,
        )
    ).first()
    before = row.count if row else 0
    day = _today(session, user_id)
    add_facts(session, user_id, quest.slug, [Fact("attempts", lesson_key, day, count=before + 1)])
    return before


def record_lesson_completed(session: Session, user_id: int, quest: Quest, lesson_key: str) -> int:
    """Record that a signed-in learner completed ``lesson_key``; return XP awarded (0 the second time)."""
    return _record(session, user_id, quest, [Fact("lesson", lesson_key, _today(session, user_id))])


def record_code_run(session: Session, user_id: int, quest: Quest) -> int:
    """Record one code run by a signed-in learner (on the server's own device key); return XP awarded."""
    lock_learner(session, user_id)
    day = _today(session, user_id)
    key = f"server:{day}"
    row = session.scalars(
        select(ProgressFact).where(
            ProgressFact.user_id == user_id,
            ProgressFact.quest == quest.slug,
            ProgressFact.kind == "code_runs",
            ProgressFact.key == key,
        )
    ).first()
    return _record(
        session, user_id, quest, [Fact("code_runs", key, day, count=(row.count if row else 0) + 1)]
    )


def record_comment(session: Session, user_id: int, quest: Quest, comment_id: int) -> int:
    """Record a comment posted by a learner in ``quest``; return XP awarded."""
    return _record(session, user_id, quest, [Fact("comment", str(comment_id), _today(session, user_id))])


class QuestSync(BaseModel):
    """One quest of a sync payload (see docs/api.md); other keys (a cached score) are ignored."""

    model_config = ConfigDict(extra="ignore")
    lessons_completed: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    lesson_days: dict[str, str] = Field(default_factory=dict)
    exercise_tokens: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    code_runs: dict[str, int] = Field(default_factory=dict)
    active_days: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)


class SyncPayload(BaseModel):
    """Body of ``POST /api/progress/sync`` and ``POST /api/progress/evaluate``."""

    model_config = ConfigDict(extra="ignore")
    quests: dict[str, QuestSync] = Field(default_factory=dict)
    device: str = Field("browser", pattern=DEVICE.pattern)
    tz: str | None = Field(None, max_length=64)


@dataclass
class Parsed:
    """A payload turned into facts per quest, with what was refused and why."""

    facts: dict[str, list[Fact]] = field(default_factory=dict)
    nonces: dict[str, tuple[str, str]] = field(default_factory=dict)  # nonce -> (quest, token)
    rejected: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    def reject(self, quest: str, what: str, item: Any) -> None:
        self.rejected.setdefault(quest, {}).setdefault(what, []).append(item)


def parse_payload(payload: SyncPayload, quests: Mapping[str, Quest], secret: str, now: datetime) -> Parsed:
    """Check a browser's progress and turn it into facts.

    Lesson completions are taken as claimed for lessons the quest serves; exercise tokens must be
    signed with ``secret`` for this quest and one of its exercises; days must be real dates no later
    than tomorrow (time zones run ahead of the server by up to a day). A lesson without a day in
    ``lesson_days`` counts on the learner's today.
    """
    parsed = Parsed()
    today = local_day(now, payload.tz)
    latest = (now.astimezone(zone(payload.tz)) + timedelta(days=1)).date()

    def good_day(text: str | None) -> bool:
        day = parse_day(text) if text else None
        return day is not None and day <= latest

    for slug, data in payload.quests.items():
        quest = quests.get(slug)
        if quest is None:
            parsed.reject(slug, "quest", slug)
            continue
        served = {lesson.key for lesson in quest.lessons()}
        exercises = {lesson.key for lesson in quest.lessons() if lesson.exercise is not None}
        facts = parsed.facts.setdefault(slug, [])
        for key in data.lessons_completed:
            if key not in served:
                parsed.reject(slug, "lessons_completed", key)
                continue
            day = data.lesson_days.get(key)
            facts.append(Fact("lesson", key, day if day and good_day(day) else today))
        for token in data.exercise_tokens:
            proof = verify_exercise_pass(secret, token)
            if proof is None or proof.quest != slug or proof.lesson_key not in exercises:
                parsed.reject(slug, "exercise_tokens", token)
                continue
            parsed.nonces[proof.nonce] = (slug, token)
            facts.append(
                Fact(
                    "exercise",
                    proof.nonce,
                    local_day(proof.passed_at, payload.tz),
                    lesson_key=proof.lesson_key,
                    first_try=proof.first_try,
                )
            )
        for day, count in data.code_runs.items():
            if not good_day(day) or count < 0:
                parsed.reject(slug, "code_runs", day)
                continue
            facts.append(Fact("code_runs", f"{payload.device}:{day}", day, count=min(count, 100_000)))
        for day in data.active_days:
            if not good_day(day):
                parsed.reject(slug, "active_days", day)
                continue
            facts.append(Fact("day", day, day))
        facts.extend(
            [Fact("day", day, day) for day in {fact.day for fact in facts}]
        )  # every event marks its day
    return parsed


def merge_payload(
    session: Session,
    user: User,
    payload: SyncPayload,
    quests: Mapping[str, Quest],
    secret: str,
    now: datetime | None = None,
) -> dict[str, dict[str, list[Any]]]:
    """Merge a browser's progress into ``user``'s stored progress; return what was rejected per quest.

    Union semantics (idempotent, order-free). An exercise token whose nonce another account already
    merged is a replay and is rejected; the same account merging it again changes nothing.
    The payload's ``tz``, when a real time zone, becomes the account's time zone.
    """
    now = now or datetime.now(UTC)
    lock_learner(session, user.id)
    if payload.tz and zone(payload.tz).key == payload.tz:
        user.time_zone = payload.tz
    parsed = parse_payload(payload, quests, secret, now)
    if parsed.nonces:
        owners = _claim_nonces(session, user.id, parsed.nonces)
        for nonce, (slug, token) in parsed.nonces.items():
            if owners.get(nonce) != user.id:
                parsed.reject(slug, "exercise_tokens_replayed", token)
                parsed.facts[slug] = [
                    f for f in parsed.facts[slug] if not (f.kind == "exercise" and f.key == nonce)
                ]
    for slug, facts in parsed.facts.items():
        add_facts(session, user.id, slug, facts)
    return parsed.rejected


def totals(session: Session, user: User, quests: Mapping[str, Quest]) -> tuple[int, int]:
    """``(lessons completed, XP)`` of ``user`` summed over ``quests`` (what a merge added is the
    difference of this before and after it)."""
    scored = [progress(session, user, quest) for quest in quests.values()]
    return sum(len(p.lessons_completed) for p in scored), sum(p.xp for p in scored)


def evaluate_payload(
    payload: SyncPayload, quests: Mapping[str, Quest], secret: str, now: datetime | None = None
) -> dict[str, QuestProgress]:
    """Score a visitor's local progress without storing anything (tokens verified, replays not checked)."""
    now = now or datetime.now(UTC)
    parsed = parse_payload(payload, quests, secret, now)
    today = local_day(now, payload.tz)
    return {slug: evaluate(quests[slug], fact_set(facts), today) for slug, facts in parsed.facts.items()}
