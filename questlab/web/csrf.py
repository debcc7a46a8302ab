"""CSRF protection by double-submit cookie, for every state-changing request.

Every response to a visitor without one sets the cookie ``questlab_csrf`` (a
random token, readable by the page's scripts, SameSite=Lax). A POST, PUT,
PATCH or DELETE must send the same token back:

- scripts (``fetch``) in the header ``X-CSRF-Token`` — checked here, for every route;
- plain HTML forms in the field ``csrf_token`` — form bodies are checked by the
  route with :func:`check_form_token` (the middleware cannot read them without
  consuming them), and the middleware lets them through only when they are
  form-encoded.

A cross-site page can neither read the cookie nor set the header, so it cannot
forge either.
"""

from __future__ import annotations

import hmac
import secrets
from http.cookies import SimpleCookie

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "questlab_csrf"
HEADER = "x-csrf-token"
FORM_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _cookie_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is simply no token
                return None
            morsel = cookie.get(COOKIE)
            return morsel.value if morsel else None
    return None


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two tokens; ``False`` when either is missing."""
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


def csrf_token(request: Request) -> str:
    """The visitor's CSRF token for forms rendered in this response (set by the middleware)."""
    return request.scope.get("state", {}).get("csrf_token") or request.cookies.get(COOKIE) or ""


def check_form_token(request: Request, form_token: str | None) -> bool:
    """Whether a form's ``csrf_token`` field matches the visitor's cookie."""
    return tokens_match(request.cookies.get(COOKIE), form_token)


class CSRFMiddleware:
    """Enforce the header token on state-changing requests and hand out the cookie.

    Args:
        app: the wrapped ASGI app.
        secure: set the cookie's Secure flag (the site is served over HTTPS).
    """

    def __init__(self, app: ASGIApp, secure: bool = False):
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _cookie_token(scope)
        if scope["method"] not in SAFE_METHODS:
            headers = dict(scope.get("headers", []))
            content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
            is_form = content_type.startswith(FORM_TYPES)
            given = headers.get(HEADER.encode(), b"").decode("latin-1")
            if not is_form and not tokens_match(token, given):
                response = JSONResponse(
                    {
                        "detail": "missing or wrong CSRF token: send the questlab_csrf cookie's value "
                        "in the X-CSRF-Token header"
                    },
                    status_code=403,
                )
                await response(scope, receive, send)
                return
        new_token = None
        if token is None:
            new_token = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = token or new_token

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and new_token is not None:
                flags = "; Path=/; SameSite=Lax; Max-Age=31536000" + ("; Secure" if self.secure else "")
                message["headers"] = list(message.get("headers", [])) + [
                    (b"set-cookie", f"{COOKIE}={new_token}{flags}".encode())
                ]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
