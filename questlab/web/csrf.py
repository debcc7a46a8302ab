"""CSRF protection by double-submit cookie, for every state-changing request.

Every response to a visitor without one sets the cookie ``questlab_csrf`` (a
random token, readable by the page's scripts, SameSite=Lax). A POST, PUT,
PATCH or DELETE must send the same token back:

- scripts (``fetch``) in the header ``X-CSRF-Token``;
- plain HTML forms (``application/x-www-form-urlencoded``) in the field
  ``csrf_token``: the middleware reads the body (at most :data:`MAX_FORM_BYTES`),
  checks the field, and hands the same bytes on to the route.

Both are checked here, for every route; any other body type needs the header.

A cross-site page can neither read the cookie nor set the header, so it cannot
forge either.
"""

from __future__ import annotations

import hmac
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "questlab_csrf"
HEADER = "x-csrf-token"
FORM_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
EXEMPT_PREFIXES = ("/unsubscribe/",)
"""Paths whose URL carries its own signed credential (RFC 8058 one-click unsubscribe from mail programs)."""
EXPIRED_FORM_HTML = (
    '<!doctype html><html lang="ko"><meta charset="utf-8"><title>403</title>'
    "<p>이 양식은 만료되었습니다. 페이지를 새로 고친 뒤 다시 보내 주세요.</p>"
    "<p>This form has expired. Reload the page and send it again.</p>"
    '<p><a href="/">questlab</a></p></html>'
)
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 1_000_000
"""Largest form body read for its token (1 MB); the site's forms hold a comment at most."""


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


async def _read_body(receive: Receive) -> bytes | None:
    """Read a request body of at most :data:`MAX_FORM_BYTES`; ``None`` when it is larger."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A ``receive`` that hands the already-read ``body`` to the app, then waits like the original."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


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
        if scope["method"] not in SAFE_METHODS and not scope["path"].startswith(EXEMPT_PREFIXES):
            headers = dict(scope.get("headers", []))
            content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
            given = headers.get(HEADER.encode(), b"").decode("latin-1")
            if not tokens_match(token, given) and content_type.startswith(FORM_TYPE):
                body = await _read_body(receive)
                if body is None:
                    await JSONResponse({"detail": "form too large"}, status_code=413)(scope, receive, send)
                    return
                fields = parse_qs(body.decode("latin-1"), max_num_fields=1000)
                given = (fields.get(FORM_FIELD) or [""])[0]
                receive = _replay(body)
            if not tokens_match(token, given) and not scope["path"].startswith("/api/"):
                await HTMLResponse(EXPIRED_FORM_HTML, status_code=403)(scope, receive, send)
                return
            if not tokens_match(token, given):
                response = JSONResponse(
                    {
                        "detail": "missing or wrong CSRF token: send the questlab_csrf cookie's value "
                        "in the X-CSRF-Token header (or a form's csrf_token field)"
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
