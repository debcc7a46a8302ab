"""Every route of questlab, in one table. Pages at ``/``, JSON under ``/api/``, operations under ``/-/``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from questlab.web import api_run, exercises, metrics, ops, pages

page_router = APIRouter()
api_router = APIRouter()

PAGES = [
    # (method, path, handler, name)
    ("GET", "/", pages.index, "index"),
    ("GET", "/quests/{quest_slug}/", pages.quest_map, "quest"),
    ("GET", "/quests/{quest_slug}/{chapter_slug}/{lesson_slug}/", pages.lesson_page, "lesson"),
]

API = [
    ("GET", "/-/health", ops.health, "health"),
    ("GET", "/-/metrics", metrics.metrics, "metrics"),
    ("POST", "/api/run", api_run.run_code, "run"),
    ("POST", "/api/quests/{quest_slug}/{chapter_slug}/{lesson_slug}/submit", exercises.submit, "submit"),
]

for method, path, handler, name in PAGES:
    page_router.add_api_route(path, handler, methods=[method], name=name, response_class=HTMLResponse,
                              include_in_schema=False)
for method, path, handler, name in API:
    api_router.add_api_route(path, handler, methods=[method], name=name)
