"""FastAPI dependencies for the signed-in user: ``current_user``, ``require_user``, ``require_role``.

Usage::

    async def handler(request: Request, user: User = Depends(require_user)): ...
    async def admin_only(user: User = Depends(require_role("admin"))): ...
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

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
            user = service.session_user(session, token)
    request.state.user = user
    return user


def require_user(request: Request) -> User:
    """The signed-in user.

    Raises:
        HTTPException: 401 (JSON) for ``/api/`` requests; for pages a 303 redirect to
            ``/login?next=<this page>``.
    """
    user = current_user(request)
    if user is None:
        if request.url.path.startswith("/api/"):
            raise HTTPException(401, "sign in first")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "sign in first", headers={"Location": f"/login?next={quote(target)}"})
    return user


def require_role(*roles: str) -> Callable[[User], User]:
    """A dependency passing only users with one of ``roles`` (403 otherwise; 401/redirect signed out)."""
    unknown = set(roles) - set(service.ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {sorted(unknown)}")

    def dependency(user: User = Depends(require_user)) -> User:
        if user.role not in roles:
            raise HTTPException(403, "your account may not do this")
        return user

    return dependency
