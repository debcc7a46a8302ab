"""One-time notices carried across a redirect (the welcome after signing up), in a signed cookie.

The cookie ``questlab_flash`` holds ``<payload>.<signature>``: URL-safe base64 of compact JSON and
HMAC-SHA256 over it with the site's secret key, so a page never shows a notice the server did not
write. The next page rendered reads it once and deletes it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from fastapi import Request
from starlette.responses import Response

COOKIE = "questlab_flash"
MAX_AGE_S = 120
_CONTEXT = b"questlab flash v1\x00"  # keeps these signatures apart from any other use of the key


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), _CONTEXT + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def set_flash(request: Request, response: Response, notice: dict[str, Any]) -> None:
    """Keep ``notice`` (JSON-serialisable, small) for the next page ``response`` leads to.

    Args:
        request: the request (for the secret key and the HTTPS setting).
        response: usually the redirect; the cookie lives :data:`MAX_AGE_S` seconds.
        notice: e.g. ``{"kind": "welcome", "lessons": 3, "xp": 120}``.
    """
    payload = base64.urlsafe_b64encode(json.dumps(notice, separators=(",", ":")).encode()).decode()
    response.set_cookie(
        COOKIE,
        f"{payload}.{_signature(request.app.state.secret_key, payload)}",
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.https,
        path="/",
    )


def read_flash(request: Request) -> dict[str, Any] | None:
    """The notice this request carries, or ``None`` (no cookie, or one the server did not sign)."""
    payload, _, signature = request.cookies.get(COOKIE, "").rpartition(".")
    if not payload or not hmac.compare_digest(_signature(request.app.state.secret_key, payload), signature):
        return None
    try:
        notice = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return None
    return notice if isinstance(notice, dict) else None


def clear_flash(request: Request, response: Response) -> None:
    """Delete the notice's cookie once a page showed it."""
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=request.app.state.settings.https
    )
