"""Accounts: users, sign-in sessions, password resets and sign-in rate limits.

Every function takes the caller's SQLAlchemy ``Session`` (from ``app.state.db.session()``) and
does not commit: the caller's transaction does. Tokens handed to browsers are random; only their
SHA-256 is stored, so a leaked database does not sign anyone in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from questlab.accounts import passwords
from questlab.accounts.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, needs_rehash, verify_password
from questlab.db.models import AuthSession, PasswordReset, SignInFailure, User

ROLES = ("learner", "author", "moderator", "admin")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A request about an account that cannot be honoured; ``code`` is stable, the message is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for DateTime(timezone=True); they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def token_hash(token: str) -> str:
    """SHA-256 hex digest of a browser token: what the database stores."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    """Trim and lower-case an email address (addresses are compared case-insensitively)."""
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    """Raise :class:`AccountError` (``weak_password``) unless ``password`` has 8 to 256 characters."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise AccountError("weak_password", f"A password needs {MIN_LENGTH} to {MAX_LENGTH} characters.")


def create_user(
    session: Session, email: str, password: str, *, display_name: str | None = None, role: str = "learner"
) -> User:
    """Create an account and return it (flushed, so ``id`` is set).

    Args:
        session: the caller's database session.
        email: the sign-in address; stored trimmed and lower-case.
        password: the plain password (8 to 256 characters); only its argon2 hash is stored.
        display_name: the public name; defaults to the part of the email before ``@``.
        role: one of :data:`ROLES`.

    Raises:
        AccountError: ``invalid_email``, ``weak_password``, ``invalid_role`` or ``email_taken``.
    """
    email = normalize_email(email)
    if not EMAIL.match(email) or len(email) > 320:
        raise AccountError("invalid_email", "That does not look like an email address.")
    check_password_rules(password)
    if role not in ROLES:
        raise AccountError("invalid_role", f"Unknown role '{role}'; expected one of {', '.join(ROLES)}.")
    if find_user(session, email) is not None:
        raise AccountError("email_taken", "An account with this email already exists.")
    name = (display_name or "").strip()[:80] or email.split("@", 1)[0][:80]
    user = User(email=email, display_name=name, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User | None:
    """Return the account with ``email`` (case-insensitive), or ``None``."""
    return session.scalars(select(User).where(User.email == normalize_email(email))).first()


class RateLimited(Exception):
    """Too many failed sign-ins; ``retry_after`` seconds until the oldest counted failure expires."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed sign-ins; retry in {retry_after} s")
        self.retry_after = retry_after


def _failure_keys(email: str, address: str | None) -> list[tuple[str, str]]:
    keys = [("account", f"account:{normalize_email(email)}")]
    if address:
        keys.append(("address", f"address:{address}"))
    return keys


def check_rate_limit(
    session: Session,
    email: str,
    address: str | None,
    *,
    per_account: int,
    per_address: int,
    window: timedelta,
) -> None:
    """Raise :class:`RateLimited` when the account or address used up its failed sign-ins in ``window``."""
    since = now() - window
    for kind, key in _failure_keys(email, address):
        limit = per_account if kind == "account" else per_address
        count, oldest = session.execute(
            select(func.count(), func.min(SignInFailure.at)).where(
                SignInFailure.key == key, SignInFailure.at > since
            )
        ).one()
        if count >= limit:
            retry = int((_aware(oldest) + window - now()).total_seconds()) + 1
            raise RateLimited(max(retry, 1))


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    address: str | None,
    per_account: int = 5,
    per_address: int = 20,
    window: timedelta = timedelta(minutes=15),
) -> User | None:
    """Check a sign-in; return the user, or ``None`` for a wrong email or password (the failure is counted).

    Raises:
        RateLimited: the account or the client address has too many recent failures; nothing is checked.
    """
    check_rate_limit(session, email, address, per_account=per_account, per_address=per_address, window=window)
    user = find_user(session, email)
    if user is None:
        verify_password(passwords.DUMMY_HASH, password)
    elif verify_password(user.password_hash, password):
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        session.execute(delete(SignInFailure).where(SignInFailure.key == _failure_keys(email, None)[0][1]))
        return user
    for _kind, key in _failure_keys(email, address):
        session.add(SignInFailure(key=key))
    session.execute(delete(SignInFailure).where(SignInFailure.at < now() - 4 * window))
    return None


def start_session(session: Session, user: User, *, days: int = 30) -> str:
    """Create a sign-in session for ``user``; return the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        AuthSession(token_hash=token_hash(token), user_id=user.id, expires_at=now() + timedelta(days=days))
    )
    return token


def session_user(session: Session, token: str | None) -> User | None:
    """Return the user signed in with cookie ``token``, or ``None`` (no, unknown or expired session)."""
    if not token:
        return None
    row = session.get(AuthSession, token_hash(token))
    if row is None:
        return None
    if _aware(row.expires_at) <= now():
        session.delete(row)
        return None
    return session.get(User, row.user_id)


def end_session(session: Session, token: str | None) -> None:
    """Sign out the browser holding ``token`` (no error when there is no such session)."""
    if token:
        session.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash(token)))


def start_reset(session: Session, email: str, *, minutes: int = 60) -> tuple[User, str] | None:
    """Create a one-time reset token for the account ``email``; ``None`` when there is no such account."""
    user = find_user(session, email)
    if user is None:
        return None
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordReset(
            token_hash=token_hash(token), user_id=user.id, expires_at=now() + timedelta(minutes=minutes)
        )
    )
    return user, token


def reset_target(session: Session, token: str) -> PasswordReset | None:
    """Return the unused, unexpired reset for ``token``, or ``None``."""
    row = session.get(PasswordReset, token_hash(token))
    if row is None or row.used_at is not None or _aware(row.expires_at) <= now():
        return None
    return row


def finish_reset(session: Session, token: str, new_password: str) -> User:
    """Set a new password with a reset ``token``, spend the token and sign the account out everywhere.

    Raises:
        AccountError: ``invalid_token`` (unknown, used or expired) or ``weak_password``.
    """
    row = reset_target(session, token)
    if row is None:
        raise AccountError("invalid_token", "This reset link is not valid any more. Ask for a new one.")
    check_password_rules(new_password)
    user = session.get(User, row.user_id)
    assert user is not None
    user.password_hash = hash_password(new_password)
    row.used_at = now()
    session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    session.execute(delete(SignInFailure).where(SignInFailure.key == f"account:{user.email}"))
    return user
