"""SQLAlchemy models. Every schema change comes with an Alembic migration in ``migrations/versions``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with constraint naming that Alembic can diff on SQLite and PostgreSQL."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class User(Base):
    """An account. ``role`` is one of learner, author, moderator, admin; ``time_zone`` (IANA name, sent by
    the browser) decides which calendar day an event falls on."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="learner")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Comment(Base):
    """A comment on a lesson; ``parent_id`` makes it a reply."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_lesson", "quest", "chapter", "lesson"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quest: Mapped[str] = mapped_column(String(80))
    chapter: Mapped[str] = mapped_column(String(80))
    lesson: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), nullable=True
    )
    thread_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    """Id of the thread's top-level comment (its own id for a top-level comment); set by the community
    service."""
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    hidden: Mapped[bool] = mapped_column(default=False)


class AuthSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PasswordReset(Base):
    """A one-time password reset link; only the SHA-256 of its token is stored."""

    __tablename__ = "password_resets"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SignInFailure(Base):
    """A failed sign-in, keyed ``account:<email>`` or ``address:<ip>``; counted for rate limiting."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProgressFact(Base):
    """One fact of a learner's progress in a quest; XP, levels and achievements are computed from the set.

    ``kind`` and ``key``: ``lesson`` (key: ``<chapter>/<lesson>``), ``exercise`` (key: the pass token's
    nonce; ``lesson_key`` and ``first_try`` set), ``code_runs`` (key: ``<device>:<day>``, ``count`` runs,
    merged by maximum), ``comment`` (key: comment id), ``day`` (key: the active day), ``attempts``
    (key: ``<chapter>/<lesson>``, ``count`` graded submissions; no XP, never accepted from a sync).
    ``day`` is the learner's calendar day (``YYYY-MM-DD`` in their time zone) the fact belongs to.
    """

    __tablename__ = "progress_facts"
    __table_args__ = (
        UniqueConstraint("user_id", "quest", "kind", "key", name="uq_progress_facts_user_quest_kind_key"),
        Index("ix_progress_facts_user_quest", "user_id", "quest"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    quest: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    lesson_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    first_try: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    day: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExerciseNonce(Base):
    """The nonce of every exercise pass token ever merged, and whose it is: a token counts for one account."""

    __tablename__ = "exercise_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- community: suspension, subscriptions, notifications, email outbox, problem reports ---


class MemberStanding(Base):
    """Community settings of an account: suspension by a moderator and the email opt-in.

    A missing row means: not suspended, no email.
    """

    __tablename__ = "member_standing"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    suspended_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    email_replies: Mapped[bool] = mapped_column(default=False)


class Subscription(Base):
    """A learner following replies: the whole lesson discussion (``thread_id`` null, the bell) or one
    thread."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_lesson", "quest", "chapter", "lesson"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    quest: Mapped[str] = mapped_column(String(80))
    chapter: Mapped[str] = mapped_column(String(80))
    lesson: Mapped[str] = mapped_column(String(80))
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notification(Base):
    """An in-app notification of ``user_id``: kind ``reply`` (``comment_id`` was posted where they follow
    replies) or ``regrade`` (``submission_id``'s result changed when its exercise's checks changed)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), nullable=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="reply")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OutboxEmail(Base):
    """An email waiting to be sent (or sent). Kept until delivered so a failed send is retried, not lost."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    headers_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ProblemReport(Base):
    """A "report a problem" on a lesson, by a learner or an anonymous visitor; triaged by authors."""

    __tablename__ = "problem_reports"
    __table_args__ = (Index("ix_problem_reports_lesson", "quest", "chapter", "lesson"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quest: Mapped[str] = mapped_column(String(80))
    chapter: Mapped[str] = mapped_column(String(80))
    lesson: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    code_block: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    client_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- graded submissions and editor drafts ---


class Submission(Base):
    """A graded submission of a signed-in learner, kept for their history, for regrading and analytics.

    ``lesson_key`` is ``<chapter>/<lesson>``; ``results_json`` the results JSON shown to the learner
    (docs/grading.md); ``diagnoses`` the mistake or diagnosis names, comma-separated; ``duration_ms``
    submit-to-verdict time; ``checks_version`` a hash of the exercise's probe, checks, solution and
    mistakes at grading time. ``regraded_at`` is set when ``questlab regrade`` re-judged it.
    """

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_user_lesson", "user_id", "quest", "lesson_key", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    quest: Mapped[str] = mapped_column(String(80))
    lesson_key: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    results_json: Mapped[str] = mapped_column(Text)
    diagnoses: Mapped[str] = mapped_column(String(500), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    checks_version: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    regraded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ExerciseDraft(Base):
    """The editor draft of a signed-in learner for one exercise, so it follows them to another device."""

    __tablename__ = "exercise_drafts"
    __table_args__ = (
        UniqueConstraint("user_id", "quest", "lesson_key", name="uq_exercise_drafts_user_quest_lesson"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    quest: Mapped[str] = mapped_column(String(80))
    lesson_key: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
