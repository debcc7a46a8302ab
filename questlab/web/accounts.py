"""Account pages (``/login``, ``/signup``, ``/logout``, ``/reset``) and the JSON auth API (``/api/auth/``)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from questlab.accounts import service
from questlab.accounts.deps import SESSION_COOKIE, current_user
from questlab.accounts.mail import send_email
from questlab.db.models import User
from questlab.progress import store
from questlab.web.csrf import check_form_token
from questlab.web.flash import set_flash
from questlab.web.pagekit import page, request_locale
from questlab.web.render import gettext

log = logging.getLogger("questlab.accounts")


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in (``/`` unless ``target`` is a path on this site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def user_json(user: User) -> dict[str, Any]:
    """The public shape of an account in API answers."""
    return {"id": user.id, "email": user.email, "display_name": user.display_name, "role": user.role}


def set_session(request: Request, response: Response, user: User) -> None:
    """Start a session for ``user``; its cookie (httpOnly, SameSite=Lax, Secure on HTTPS) on ``response``."""
    settings = request.app.state.settings
    with request.app.state.db.session() as session:
        token = service.start_session(session, user, days=settings.session_days)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.https,
        path="/",
    )


def clear_session(request: Request, response: Response) -> None:
    """End this browser's session and delete its cookie."""
    with request.app.state.db.session() as session:
        service.end_session(session, request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=request.app.state.settings.https
    )


def _client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _sign_in(request: Request, email: str, password: str) -> User | None:
    """Check credentials under the rate limits.

    Raises:
        service.RateLimited: too many recent failures for this account or address.
    """
    settings = request.app.state.settings
    with request.app.state.db.session() as session:
        return service.authenticate(
            session,
            email,
            password,
            address=_client_address(request),
            per_account=settings.sign_in_attempts_per_account,
            per_address=settings.sign_in_attempts_per_address,
            window=timedelta(minutes=settings.sign_in_window_minutes),
        )


def _create(request: Request, email: str, password: str, display_name: str | None) -> User:
    with request.app.state.db.session() as session:
        return service.create_user(session, email, password, display_name=display_name)


def _message(request: Request, code: str) -> str:
    """The sentence for an :class:`~questlab.accounts.service.AccountError` code, in the visitor's locale."""
    _ = gettext(request_locale(request))
    return {
        "invalid_email": _("That does not look like an email address."),
        "weak_password": _("A password needs 8 to 256 characters."),
        "email_taken": _(
            "An account with this email already exists. Sign in instead, or reset your password."
        ),
        "invalid_token": _("This reset link is not valid any more. Ask for a new one."),
    }[code]


def merge_local_progress(request: Request, user: User, raw: str | None) -> tuple[int, int]:
    """Merge the browser's local progress sent with a sign-up or sign-in form into ``user``'s account.

    Args:
        request: the request (catalog, database, secret key).
        user: the account just created or signed in to.
        raw: the form's ``local_progress`` field: the JSON body ``POST /api/progress/sync`` takes
            (progress.js fills it in), or empty.

    Returns:
        ``(lessons, xp)`` the merge added to the account; ``(0, 0)`` for an empty or malformed field
        (signing in never fails over it: the page's script syncs again after the redirect).
    """
    if not raw:
        return 0, 0
    try:
        payload = store.SyncPayload.model_validate_json(raw)
    except ValidationError:
        log.warning("a sign-in form carried local progress that is not a sync payload; ignored")
        return 0, 0
    quests = request.app.state.catalog.quests
    with request.app.state.db.session() as session:
        fresh = session.get(User, user.id)
        assert fresh is not None
        lessons, xp = store.totals(session, fresh, quests)
        store.merge_payload(session, fresh, payload, quests, request.app.state.secret_key)
        after_lessons, after_xp = store.totals(session, fresh, quests)
    return after_lessons - lessons, after_xp - xp


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    if not check_form_token(request, form.get("csrf_token")):  # type: ignore[arg-type]
        raise HTTPException(403, "The form expired or came from another site. Reload the page and try again.")
    return {key: str(value) for key, value in form.items()}


# --- pages ---------------------------------------------------------------------------------------------


async def login_page(request: Request) -> HTMLResponse:
    """``GET /login``: the sign-in form."""
    return page(request, "login.html", next=safe_next(request.query_params.get("next")), error=None, email="")


async def login_submit(request: Request) -> Response:
    """``POST /login``: sign in from the form, merge the browser's local progress, then go to ``next``
    (with a notice when the merge added something)."""
    form = await _form(request)
    target = safe_next(form.get("next"))
    _ = gettext(request_locale(request))
    try:
        user = _sign_in(request, form.get("email", ""), form.get("password", ""))
    except service.RateLimited as limited:
        response = page(
            request,
            "login.html",
            status_code=429,
            next=target,
            email=form.get("email", ""),
            error=_("Too many failed sign-ins. Wait %(minutes)d minutes and try again.")
            % {"minutes": (limited.retry_after + 59) // 60},
        )
        response.headers["Retry-After"] = str(limited.retry_after)
        return response
    if user is None:
        return page(
            request,
            "login.html",
            status_code=401,
            next=target,
            email=form.get("email", ""),
            error=_("Wrong email or password."),
        )
    lessons, xp = merge_local_progress(request, user, form.get("local_progress"))
    redirect = RedirectResponse(target, status_code=303)
    set_session(request, redirect, user)
    if lessons or xp:
        set_flash(request, redirect, {"kind": "welcome_back", "lessons": lessons, "xp": xp})
    return redirect


async def signup_page(request: Request) -> HTMLResponse:
    """``GET /signup``: the sign-up form."""
    return page(
        request,
        "signup.html",
        next=safe_next(request.query_params.get("next")),
        error=None,
        email="",
        display_name="",
    )


async def signup_submit(request: Request) -> Response:
    """``POST /signup``: create the account, merge the browser's local progress into it, sign in, and go
    to ``next`` with a welcome that says what was merged."""
    form = await _form(request)
    target = safe_next(form.get("next"))
    try:
        user = _create(request, form.get("email", ""), form.get("password", ""), form.get("display_name"))
    except service.AccountError as error:
        return page(
            request,
            "signup.html",
            status_code=400,
            next=target,
            email=form.get("email", ""),
            display_name=form.get("display_name", ""),
            error=_message(request, error.code),
        )
    lessons, xp = merge_local_progress(request, user, form.get("local_progress"))
    redirect = RedirectResponse(target, status_code=303)
    set_session(request, redirect, user)
    set_flash(request, redirect, {"kind": "welcome", "lessons": lessons, "xp": xp})
    return redirect


async def logout_page(request: Request) -> HTMLResponse:
    """``GET /logout``: a button to sign out (signing out changes state, so it is a POST)."""
    return page(request, "logout.html")


async def logout_submit(request: Request) -> Response:
    """``POST /logout``: end the session and go home."""
    await _form(request)
    response = RedirectResponse("/?signed_out=1", status_code=303)
    clear_session(request, response)
    return response


async def reset_page(request: Request) -> HTMLResponse:
    """``GET /reset``: ask for a reset link by email."""
    return page(request, "reset.html", sent=False)


def reset_email(request: Request, user: User, token: str) -> tuple[str, str]:
    """Subject and body of the reset email, in the visitor's locale."""
    _ = gettext(request_locale(request))
    link = f"{request.app.state.settings.base_url.rstrip('/')}/reset/{token}"
    minutes = request.app.state.settings.reset_link_minutes
    body = _(
        "Hello %(name)s,\n\nOpen this link to choose a new questlab password. It works once, for "
        "%(minutes)d minutes:\n\n%(link)s\n\nIf you did not ask for it, ignore this email."
    ) % {"name": user.display_name, "minutes": minutes, "link": link}
    return _("Reset your questlab password"), body


async def reset_submit(request: Request) -> HTMLResponse:
    """``POST /reset``: email a one-time link if the account exists (the answer is the same either way)."""
    form = await _form(request)
    settings = request.app.state.settings
    with request.app.state.db.session() as session:
        found = service.start_reset(session, form.get("email", ""), minutes=settings.reset_link_minutes)
    if found is not None:
        user, token = found
        subject, body = reset_email(request, user, token)
        try:
            await run_in_threadpool(send_email, settings, user.email, subject, body)
        except OSError:
            log.exception("could not send the reset email to %s", user.email)
            raise HTTPException(503, "The email could not be sent. Try again in a few minutes.") from None
    return page(request, "reset.html", sent=True)


async def reset_token_page(request: Request, token: str) -> HTMLResponse:
    """``GET /reset/{token}``: the new-password form, or a notice that the link is spent."""
    with request.app.state.db.session() as session:
        valid = service.reset_target(session, token) is not None
    return page(
        request,
        "reset_token.html",
        status_code=200 if valid else 400,
        token=token,
        error=None if valid else _message(request, "invalid_token"),
        valid=valid,
    )


async def reset_token_submit(request: Request, token: str) -> Response:
    """``POST /reset/{token}``: set the new password, spend the link, sign in."""
    form = await _form(request)
    try:
        with request.app.state.db.session() as session:
            user = service.finish_reset(session, token, form.get("password", ""))
    except service.AccountError as error:
        return page(
            request,
            "reset_token.html",
            status_code=400,
            token=token,
            valid=error.code != "invalid_token",
            error=_message(request, error.code),
        )
    response = RedirectResponse("/me", status_code=303)
    set_session(request, response, user)
    return response


# --- JSON API ------------------------------------------------------------------------------------------


class Credentials(BaseModel):
    """Body of ``POST /api/auth/signup`` and ``/api/auth/login``."""

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    display_name: str | None = Field(None, max_length=80)


async def api_signup(request: Request, body: Credentials) -> JSONResponse:
    """``POST /api/auth/signup``: create an account and sign in (201), 400/409 with ``code`` otherwise."""
    try:
        user = _create(request, body.email, body.password, body.display_name)
    except service.AccountError as error:
        status = 409 if error.code == "email_taken" else 400
        return JSONResponse({"detail": str(error), "code": error.code}, status_code=status)
    response = JSONResponse({"user": user_json(user)}, status_code=201)
    set_session(request, response, user)
    return response


async def api_login(request: Request, body: Credentials) -> JSONResponse:
    """``POST /api/auth/login``: sign in (200); 401 wrong credentials; 429 with Retry-After when limited."""
    try:
        user = _sign_in(request, body.email, body.password)
    except service.RateLimited as limited:
        return JSONResponse(
            {
                "detail": "too many failed sign-ins; wait and retry",
                "code": "rate_limited",
                "retry_after": limited.retry_after,
            },
            status_code=429,
            headers={"Retry-After": str(limited.retry_after)},
        )
    if user is None:
        return JSONResponse({"detail": "wrong email or password", "code": "bad_credentials"}, status_code=401)
    response = JSONResponse({"user": user_json(user)})
    set_session(request, response, user)
    return response


async def api_logout(request: Request) -> JSONResponse:
    """``POST /api/auth/logout``: end this browser's session (200 even when not signed in)."""
    response = JSONResponse({"ok": True})
    clear_session(request, response)
    return response


async def api_me(request: Request) -> JSONResponse:
    """``GET /api/auth/me``: the signed-in account, or ``{"user": null}``."""
    user = current_user(request)
    return JSONResponse({"user": user_json(user) if user else None})
