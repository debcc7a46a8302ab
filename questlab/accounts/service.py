"""Accounts (minimal): creating users, checking passwords, signed session tokens.

Sessions are stateless: the cookie holds ``<user id>.<HMAC>`` signed with the
site's secret key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from questlab.db.models import User

ROLES = ("learner", "author", "moderator", "admin")
_HASHER = PasswordHasher()


class AccountError(ValueError):
    """A request about an account that cannot be honoured; the message is for people."""


def create_user(session: Session, email: str, password: str, *, display_name: str | None = None,
                role: str = "learner") -> User:
    """Create an account (argon2 password hash).

    Raises:
        AccountError: unknown role, malformed email, short password, or the email is taken.
    """
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}")
    if "@" not in email or len(email) > 320:
        raise AccountError("enter a valid email address")
    if len(password) < 8:
        raise AccountError("the password needs at least 8 characters")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("an account with this email exists")
    user = User(email=email, display_name=(display_name or email.split("@")[0])[:80],
                password_hash=_HASHER.hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The account for ``email`` when ``password`` is right, else ``None``."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return None
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def _signature(secret: str, user_id: int) -> str:
    digest = hmac.new(f"questlab-session:{secret}".encode(), str(user_id).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def session_token(secret: str, user: User) -> str:
    """The session cookie value for ``user``."""
    return f"{user.id}.{_signature(secret, user.id)}"


def session_user(session: Session, secret: str, token: str | None) -> User | None:
    """The account a session token names, or ``None`` for a missing or forged token."""
    user_part, _, signature = (token or "").partition(".")
    if not user_part.isdigit() or not hmac.compare_digest(_signature(secret, int(user_part)), signature):
        return None
    return session.get(User, int(user_part))
