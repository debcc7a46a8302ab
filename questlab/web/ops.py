"""Operations endpoints under ``/-/``: health (and metrics)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from questlab.web.pages import runner_state


async def health(request: Request) -> JSONResponse:
    """``GET /-/health``: 200 with each part's state when the database answers, else 503.

    Returns:
        ``{"status": "ok"|"degraded", "database": bool, "quests": int, "content_errors": int,
        "runner": "sandboxed"|"unsandboxed"|"starting"|"off"}``
        (``starting`` while the runner warms up after the server started).
    """
    state = request.app.state
    try:
        with state.db.session() as session:
            session.execute(text("SELECT 1"))
        database = True
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        database = False
    body = {
        "status": "ok" if database else "degraded",
        "database": database,
        "quests": len(state.catalog.quests),
        "content_errors": len(state.catalog.errors),
        "runner": runner_state(request),
    }
    return JSONResponse(body, status_code=200 if database else 503)
