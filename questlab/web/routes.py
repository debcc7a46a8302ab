"""Every route of questlab, in one table. Pages at ``/``, JSON under ``/api/``, operations under ``/-/``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from questlab.web import (
    accounts,
    api_run,
    community_api,
    community_pages,
    exercises,
    metrics,
    ops,
    pages,
    progress,
)

LESSON = "/quests/{quest_slug}/{chapter_slug}/{lesson_slug}/"
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
    # community
    ("GET", LESSON + "comments", community_pages.comments_fragment, "comments_fragment"),
    ("POST", LESSON + "comments", community_pages.post_comment_form, "comment_form"),
    ("GET", LESSON + "report", community_pages.report_form, "report"),
    ("POST", LESSON + "report", community_pages.report_submit, "report_submit"),
    ("GET", "/notifications", community_pages.notifications_page, "notifications"),
    ("POST", "/notifications/email", community_pages.notifications_email, "notifications_email"),
    ("GET", "/unsubscribe/{token}", community_pages.unsubscribe, "unsubscribe"),
    ("POST", "/unsubscribe/{token}", community_pages.unsubscribe, "unsubscribe_one_click"),
    ("GET", "/admin/reports", community_pages.admin_reports, "admin_reports"),
    ("POST", "/admin/reports/{report_id}/resolve", community_pages.admin_resolve, "admin_resolve"),
]

API = [
    ("GET", "/-/health", ops.health, "health"),
    ("GET", "/-/health/live", ops.live, "health_live"),
    ("GET", "/-/health/ready", ops.ready, "health_ready"),
    ("GET", "/-/metrics", metrics.metrics, "metrics"),
    ("POST", "/api/run", api_run.run_code, "run"),
    (
        "POST",
        "/api/quests/{quest_slug}/{chapter_slug}/{lesson_slug}/submit",
        metrics.graded(exercises.submit),  # counted in questlab_gradings_total by outcome
        "submit",
    ),
    (
        "GET",
        "/api/quests/{quest_slug}/{chapter_slug}/{lesson_slug}/submissions",
        exercises.submissions,
        "submissions",
    ),
    ("GET", "/api/submissions/{submission_id}", exercises.submission, "submission"),
    ("GET", "/api/quests/{quest_slug}/{chapter_slug}/{lesson_slug}/draft", exercises.get_draft, "draft"),
    ("PUT", "/api/quests/{quest_slug}/{chapter_slug}/{lesson_slug}/draft", exercises.put_draft, "put_draft"),
    ("POST", "/api/auth/signup", accounts.api_signup, "api_signup"),
    ("POST", "/api/auth/login", accounts.api_login, "api_login"),
    ("POST", "/api/auth/logout", accounts.api_logout, "api_logout"),
    ("GET", "/api/auth/me", accounts.api_me, "api_me"),
    ("GET", "/api/me/progress", progress.api_my_progress, "api_my_progress"),
    ("POST", "/api/progress/sync", progress.api_sync, "api_progress_sync"),
    ("POST", "/api/progress/evaluate", progress.api_evaluate, "api_progress_evaluate"),
    # community (docs/community.md)
    ("GET", "/api" + LESSON + "comments", community_api.list_lesson_comments, "api_comments"),
    ("POST", "/api" + LESSON + "comments", community_api.post_lesson_comment, "api_comment_post"),
    ("PUT", "/api/comments/{comment_id}", community_api.edit_comment, "api_comment_edit"),
    ("DELETE", "/api/comments/{comment_id}", community_api.delete_comment, "api_comment_delete"),
    ("POST", "/api/comments/{comment_id}/hide", community_api.hide_comment, "api_comment_hide"),
    ("POST", "/api/users/{user_id}/suspend", community_api.suspend_account, "api_user_suspend"),
    ("PUT", "/api" + LESSON + "subscription", community_api.subscribe, "api_subscribe"),
    ("DELETE", "/api" + LESSON + "subscription", community_api.unsubscribe, "api_unsubscribe"),
    ("GET", "/api/notifications", community_api.list_notifications, "api_notifications"),
    ("POST", "/api/notifications/read", community_api.read_notifications, "api_notifications_read"),
    ("PUT", "/api/notifications/email", community_api.email_preference, "api_notifications_email"),
    ("POST", "/api" + LESSON + "reports", community_api.post_report, "api_report"),
    ("GET", "/api/admin/reports", community_api.admin_reports, "api_admin_reports"),
    ("POST", "/api/admin/reports/{report_id}/resolve", community_api.resolve_report, "api_admin_resolve"),
]

for method, path, handler, name in PAGES:
    page_router.add_api_route(
        path, handler, methods=[method], name=name, response_class=HTMLResponse, include_in_schema=False
    )
for method, path, handler, name in API:
    api_router.add_api_route(path, handler, methods=[method], name=name)
