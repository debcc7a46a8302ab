"""The ASGI application: built from settings, content, database and runner."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from questlab.community.errors import CommunityError
from questlab.community.mail import Mailer
from questlab.content.loader import Catalog, load_catalog
from questlab.db import Database
from questlab.logs import install_record_factory
from questlab.settings import Settings
from questlab.web.community_api import community_error
from questlab.web.csrf import CSRFMiddleware
from questlab.web.dberrors import database_unavailable
from questlab.web.metrics import Metrics, MetricsMiddleware
from questlab.web.pages import http_error_page, validation_error
from questlab.web.requestid import RequestIdMiddleware
from questlab.web.routes import api_router, page_router
from questlab.web.security import SecurityHeadersMiddleware

log = logging.getLogger("questlab")
STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_BODY_BYTES = 2_000_000
"""Largest request body accepted (2 MB): code is capped at 100,000 characters, a progress sync is small;
a larger body is refused with 413 before it is read."""


class QuestlabApp(FastAPI):
    """The FastAPI app with the request id and the request metrics outside Starlette's error middleware.

    ``add_middleware`` places middleware inside the one that turns an unhandled error into a 500
    answer; these two go around it, so that answer is counted and carries ``X-Request-ID``.
    """

    def build_middleware_stack(self) -> ASGIApp:
        """The usual stack wrapped in :class:`MetricsMiddleware`, then :class:`RequestIdMiddleware`."""
        return RequestIdMiddleware(MetricsMiddleware(super().build_middleware_stack(), self.state.metrics))


def load_content(settings: Settings) -> Catalog:
    """Load the quests folder and log every content problem (the server serves what is valid)."""
    catalog = load_catalog(settings.quests_dir, preview=settings.preview)
    for problem in catalog.problems:
        (log.error if problem.severity == "error" else log.warning)("content: %s", problem)
    log.info("content: %d quest(s) loaded from %s", len(catalog.quests), settings.quests_dir)
    return catalog


def create_app(
    settings: Settings | None = None, *, catalog: Catalog | None = None, database: Database | None = None
) -> FastAPI:
    """Build the questlab application.

    Args:
        settings: settings (read from the environment when ``None``).
        catalog: pre-loaded content (loaded from ``settings.quests_dir`` when ``None``).
        database: database handle (opened from ``settings`` when ``None``). The schema
            must be migrated (``questlab db upgrade``).

    Returns:
        A FastAPI app whose state holds ``settings``, ``catalog``, ``db``, ``mailer`` (the email
        outbox sender, started with the app) and ``runner``
        (``None`` until the runner starts, or when it is disabled).
    """
    settings = settings or Settings()
    install_record_factory()  # log records made while handling a request carry its id
    catalog = catalog if catalog is not None else load_content(settings)
    db = database or Database(settings.resolved_database_url())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from questlab.web.runner_glue import start_runner, stop_runner

        await start_runner(app)
        app.state.mailer.start()
        try:
            yield
        finally:
            app.state.mailer.stop()
            await stop_runner(app)
            if getattr(app.state, "rate_redis", None) is not None:
                await app.state.rate_redis.aclose()
            if database is None:
                db.dispose()

    app = QuestlabApp(
        max_body_size=MAX_BODY_BYTES,
        title="questlab",
        lifespan=lifespan,
        docs_url=None,  # the interactive docs page needs scripts from elsewhere; docs/api.md instead
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.catalog = catalog
    app.state.db = db
    app.state.runner = None
    app.state.grading_bank = None
    app.state.runner_task = None  # the runner's start in progress (runner_glue.start_runner)
    app.state.on_runner_failure = None  # called with the error when the runner cannot start
    app.state.page_cache = {}
    app.state.metrics = Metrics()
    app.state.metrics.content_errors.set(len(catalog.errors))
    app.state.secret_key = settings.resolved_secret_key()
    app.state.mailer = Mailer(db, settings)
    # API routes first: a request is matched against routes in order, and no page
    # path starts with /api/ or /-/; POST /api/run is then the third route tried.
    app.include_router(api_router)
    app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(StarletteHTTPException, http_error_page)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(CommunityError, community_error)
    # The database not answering (a restart, a failover, a lock held too long): 503, not 500.
    app.add_exception_handler(sa_exc.DBAPIError, database_unavailable)
    app.add_exception_handler(sa_exc.TimeoutError, database_unavailable)
    app.add_middleware(CSRFMiddleware, secure=settings.https)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
