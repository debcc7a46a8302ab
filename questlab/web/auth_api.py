"""Sign-up, sign-in and sign-out over JSON (minimal)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from questlab.accounts import service
from questlab.accounts.deps import SESSION_COOKIE


class Credentials(BaseModel):
    """Email and password."""

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


def _signed_in(request: Request, user_id: int, display_name: str, status: int) -> JSONResponse:
    response = JSONResponse({"id": user_id, "display_name": display_name}, status_code=status)
    with request.app.state.db.session() as session:
        user = session.get(service.User, user_id)
        token = service.session_token(request.app.state.secret_key, user)
    response.set_cookie(SESSION_COOKIE, token, max_age=30 * 86400, httponly=True, samesite="lax",
                        secure=request.app.state.settings.https)
    return response


async def signup(request: Request, data: Credentials) -> JSONResponse:
    """``POST /api/auth/signup`` with ``{"email", "password"}``: create a learner account and sign in."""
    try:
        with request.app.state.db.session() as session:
            user = service.create_user(session, data.email, data.password)
            user_id, name = user.id, user.display_name
    except service.AccountError as exc:
        raise HTTPException(422, str(exc)) from exc
    return _signed_in(request, user_id, name, 201)


async def login(request: Request, data: Credentials) -> JSONResponse:
    """``POST /api/auth/login`` with ``{"email", "password"}``: set the session cookie."""
    with request.app.state.db.session() as session:
        user = service.authenticate(session, data.email, data.password)
        if user is None:
            raise HTTPException(401, "wrong email or password")
        user_id, name = user.id, user.display_name
    return _signed_in(request, user_id, name, 200)
