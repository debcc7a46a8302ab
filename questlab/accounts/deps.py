"""FastAPI dependencies for the signed-in user: ``current_user``, ``require_user``, ``require_role``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from questlab.accounts import service
from questlab.db.models import User

SESSION_COOKIE = "questlab_session"
_UNSET = object()


def current_user(request: Request) -> User | None:
    """The user signed in on this request (session cookie), or ``None``. Looked up once per request."""
    cached = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    user = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with request.app.state.db.session() as session:
            user = service.session_user(session, request.app.state.secret_key, token)
    request.state.user = user
    return user


def require_user(request: Request) -> User:
    """The signed-in user (401 when signed out)."""
    user = current_user(request)
    if user is None:
        raise HTTPException(401, "sign in first")
    return user


def require_role(*roles: str) -> Callable[[Request], User]:
    """A dependency that passes only users with one of ``roles`` (403 otherwise)."""

    def dependency(user: User = Depends(require_user)) -> User:
        if user.role not in roles:
            raise HTTPException(403, "your account may not do this")
        return user

    return dependency
