"""Every route of questlab, in one table. Pages at ``/``, JSON under ``/api/``, operations under ``/-/``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from questlab.web import accounts, api_run, exercises, metrics, ops, pages, progress

page_router = APIRouter()
api_router = APIRouter()

PAGES = [
    # (method, path, handler, name)
    ("GET", "/", pages.index, "index"),
    ("GET", "/quests/{quest_slug}/", pages.quest_map, "quest"),
    ("GET", "/quests/{quest_slug}/{chapter_slug}/{lesson_slug}/", pages.lesson_page, "lesson"),
    ("GET", "/login", accounts.login_page, "login"),
    ("POST", "/login", accounts.login_submit, "login_submit"),
    ("GET", "/signup", accounts.signup_page, "signup"),
    ("POST", "/signup", accounts.signup_submit, "signup_submit"),
    ("GET", "/logout", accounts.logout_page, "logout"),
    ("POST", "/logout", accounts.logout_submit, "logout_submit"),
    ("GET", "/reset", accounts.reset_page, "reset"),
    ("POST", "/reset", accounts.reset_submit, "reset_submit"),
    ("GET", "/reset/{token}", accounts.reset_token_page, "reset_token"),
    ("POST", "/reset/{token}", accounts.reset_token_submit, "reset_token_submit"),
    ("GET", "/me", progress.me_page, "me"),
]

API = [
    ("GET", "/-/health", ops.health, "health"),
    ("GET", "/-/metrics", metrics.metrics, "metrics"),
    ("POST", "/api/run", api_run.run_code, "run"),
    ("POST", "/api/quests/{quest_slug}/{chapter_slug}/{lesson_slug}/submit", exercises.submit, "submit"),
    ("POST", "/api/auth/signup", accounts.api_signup, "api_signup"),
    ("POST", "/api/auth/login", accounts.api_login, "api_login"),
    ("POST", "/api/auth/logout", accounts.api_logout, "api_logout"),
    ("GET", "/api/auth/me", accounts.api_me, "api_me"),
    ("GET", "/api/me/progress", progress.api_my_progress, "api_my_progress"),
    ("POST", "/api/progress/sync", progress.api_sync, "api_progress_sync"),
    ("POST", "/api/progress/evaluate", progress.api_evaluate, "api_progress_evaluate"),
]

for method, path, handler, name in PAGES:
    page_router.add_api_route(path, handler, methods=[method], name=name, response_class=HTMLResponse,
                              include_in_schema=False)
for method, path, handler, name in API:
    api_router.add_api_route(path, handler, methods=[method], name=name)
