"""A database that does not answer: 503 with ``Retry-After`` and a sentence, never a 500 or a hang.

When PostgreSQL restarts, fails over or is out of reach, or SQLite stays locked past its busy
timeout, SQLAlchemy raises :class:`~sqlalchemy.exc.OperationalError` (or a pool timeout) from
whichever handler touched the database. :func:`database_unavailable` answers it: JSON
``{"detail": <sentence>, "code": "database_unavailable"}`` under ``/api/``, the error page elsewhere.
The engine pings pooled connections before use (``pool_pre_ping``), so once the database is back the
same process serves again without a restart.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc

from questlab.web.i18n import translations
from questlab.web.pagekit import page, request_locale

log = logging.getLogger("questlab.db")

RETRY_AFTER_S = 5
"""Seconds a client is told to wait (``Retry-After``) before trying again."""


def _(message: str) -> str:
    """Mark ``message`` for extraction into the catalogs; it is translated when used."""
    return message


DATABASE_DOWN = _("The database is not answering right now; try again in a few seconds.")


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot answer now (as opposed to a bug in a query).

    True for connection failures and lost connections (``OperationalError``, ``InterfaceError``, any
    error that invalidated its connection) and for a full connection pool (``sqlalchemy.exc.TimeoutError``).
    """
    if isinstance(error, sa_exc.TimeoutError | sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    return isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated


async def database_unavailable(request: Request, error: Exception) -> Response:
    """Exception handler: 503 with ``Retry-After`` and :data:`DATABASE_DOWN` in the visitor's locale.

    Args:
        request: the request whose handler failed.
        error: a SQLAlchemy error (handlers are registered for ``DBAPIError`` and ``TimeoutError``).

    Returns:
        JSON under ``/api/``, else the HTML error page (rendered as for a visitor signed out: the
        account cannot be looked up).

    Raises:
        Exception: ``error`` itself when it is not about reaching the database (a 500 then).
    """
    if not is_unavailable(error):
        raise error
    log.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, str(error).splitlines()[0]
    )
    sentence = translations(request_locale(request)).gettext(DATABASE_DOWN)
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if request.url.path.startswith("/api/"):
        return JSONResponse(
            {"detail": sentence, "code": "database_unavailable"}, status_code=503, headers=headers
        )
    request.state.user = None  # the account lookup failed; render as for a visitor
    response = page(
        request, "error.html", status_code=503, status=503, detail=sentence, unread_notifications=0
    )
    response.headers.update(headers)
    return response
