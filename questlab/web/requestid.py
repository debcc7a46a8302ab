"""A request id for every request: the incoming ``X-Request-ID`` when it is a sane short token, else a new
one; returned in the ``X-Request-ID`` response header and set in :data:`questlab.logs.request_id` for the
log records made while handling the request."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from questlab.logs import request_id

HEADER = b"x-request-id"
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
"""An id a proxy or client may choose: 1 to 64 letters, digits and ``._:-``, starting with a letter or
digit (a UUID fits); anything else (spaces, quotes, control characters, a long string) is replaced, so
the id is safe to log and to echo in a header."""


def choose_request_id(incoming: bytes | None) -> str:
    """The incoming id when :data:`SANE_ID` matches it whole, else a new random one (32 hex digits).

    Args:
        incoming: the raw ``X-Request-ID`` header value, or ``None``.

    Returns:
        The request's id.
    """
    if incoming:
        text = incoming.decode("latin-1")
        if SANE_ID.fullmatch(text):
            return text
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give each HTTP request an id (``scope["state"]["request_id"]``, the log context, the response header).

    Placed outside Starlette's error middleware (see :func:`questlab.web.app.create_app`), so a 500
    answer carries the header too. When the app raises, the id stays set in the request's context:
    the server (uvicorn runs each request in its own task) logs the error in that context, with the id.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((value for name, value in scope.get("headers", []) if name == HEADER), None)
        rid = choose_request_id(incoming)
        scope.setdefault("state", {})["request_id"] = rid
        header = (HEADER, rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message.get("headers", []) if n.lower() != HEADER]
                message["headers"] = [*headers, header]
            await send(message)

        token = request_id.set(rid)
        await self.app(scope, receive, send_with_id)
        request_id.reset(token)  # not on an error: the server logs it in this context
