"""Accounts: hashing, sessions, the JSON auth API, pages in both locales, CSRF, rate limits, reset by email,
roles and the ``users create`` command."""

from __future__ import annotations

import re
import socket
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import Depends
from sqlalchemy import select
from typer.testing import CliRunner

from questlab.accounts import service
from questlab.accounts.deps import SESSION_COOKIE, require_role
from questlab.accounts.passwords import hash_password, needs_rehash, verify_password
from questlab.db import Database
from questlab.db.models import AuthSession, User
from questlab.web.app import create_app
from tests.helpers import csrf_headers, sign_up

pytestmark = pytest.mark.anyio


def test_argon2_hashing():
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert hash_password("correct horse") != hashed  # salted
    assert verify_password(hashed, "correct horse") and not verify_password(hashed, "wrong horse")
    assert not verify_password("not a hash", "x") and not needs_rehash(hashed)


def test_create_user_rules(database_url: str):
    db = Database(database_url)
    try:
        with db.session() as session:
            user = service.create_user(session, "  Ada@Example.COM ", "longenough")
            assert (
                user.id
                and user.email == "ada@example.com"
                and user.display_name == "ada"
                and user.role == "learner"
            )
            admin = service.create_user(
                session, "root@example.com", "longenough", display_name="Root", role="admin"
            )
            assert admin.role == "admin" and admin.display_name == "Root"
        for email, password, role, code in [
            ("ada@example.com", "longenough", "learner", "email_taken"),
            ("nope", "longenough", "learner", "invalid_email"),
            ("b@example.com", "short", "learner", "weak_password"),
            ("c@example.com", "longenough", "emperor", "invalid_role"),
        ]:
            with pytest.raises(service.AccountError) as caught, db.session() as session:
                service.create_user(session, email, password, role=role)
            assert caught.value.code == code
    finally:
        db.dispose()


def test_sessions_store_only_a_hash_and_expire(database_url: str):
    db = Database(database_url)
    try:
        with db.session() as session:
            user = service.create_user(session, "s@example.com", "longenough")
            token = service.start_session(session, user, days=1)
        with db.session() as session:
            assert session.scalars(select(AuthSession.token_hash)).one() == service.token_hash(token) != token
            assert service.session_user(session, token).id == user.id  # type: ignore[union-attr]
            assert (
                service.session_user(session, "forged") is None
                and service.session_user(session, None) is None
            )
            row = session.get(AuthSession, service.token_hash(token))
            row.expires_at = service.now() - timedelta(seconds=1)  # type: ignore[union-attr]
        with db.session() as session:
            assert service.session_user(session, token) is None
            assert session.scalars(select(AuthSession)).all() == []  # the expired session is removed
    finally:
        db.dispose()


async def test_signup_login_logout_api(client: httpx.AsyncClient):
    user = await sign_up(client, "Learner@Example.com", "correct horse", display_name="배우는 사람")
    assert user == {
        "id": user["id"],
        "email": "learner@example.com",
        "display_name": "배우는 사람",
        "role": "learner",
    }
    assert (await client.get("/api/auth/me")).json()["user"]["id"] == user["id"]
    headers = await csrf_headers(client)
    assert (await client.post("/api/auth/logout", headers=headers)).json() == {"ok": True}
    assert (await client.get("/api/auth/me")).json() == {"user": None}
    wrong = await client.post(
        "/api/auth/login", json={"email": "learner@example.com", "password": "nope nope"}, headers=headers
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "bad_credentials"
    right = await client.post(
        "/api/auth/login", json={"email": "LEARNER@example.com", "password": "correct horse"}, headers=headers
    )
    assert right.status_code == 200 and right.json()["user"]["id"] == user["id"]
    cookie = right.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie
    taken = await client.post(
        "/api/auth/signup", json={"email": "learner@example.com", "password": "x" * 9}, headers=headers
    )
    assert taken.status_code == 409 and taken.json()["code"] == "email_taken"
    weak = await client.post(
        "/api/auth/signup", json={"email": "n@example.com", "password": "x"}, headers=headers
    )
    assert weak.status_code == 400 and weak.json()["code"] == "weak_password"


async def test_session_cookie_is_secure_under_https(settings):
    app = create_app(settings.model_copy(update={"https": True}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://t") as http:
        await http.get("/")
        response = await http.post(
            "/api/auth/signup",
            json={"email": "h@example.com", "password": "longenough"},
            headers={"X-CSRF-Token": http.cookies["questlab_csrf"]},
        )
        assert "Secure" in response.headers["set-cookie"]


STATE_CHANGING = [
    ("/api/auth/signup", "json"),
    ("/api/auth/login", "json"),
    ("/api/auth/logout", "json"),
    ("/api/progress/sync", "json"),
    ("/api/progress/evaluate", "json"),
    ("/login", "form"),
    ("/signup", "form"),
    ("/logout", "form"),
    ("/reset", "form"),
    ("/reset/sometoken", "form"),
]


@pytest.mark.parametrize(("path", "kind"), STATE_CHANGING)
async def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(client, path, kind):
    await sign_up(client)
    good = client.cookies["questlab_csrf"]
    if kind == "json":
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            response = await client.post(
                path, json={"email": "a@b.cd", "password": "longenough"}, headers=headers
            )
            assert response.status_code == 403, (path, headers)
    else:
        for token in (None, "forged"):
            data = {"email": "learner@example.com", "password": "correct horse"}
            if token:
                data["csrf_token"] = token
            response = await client.post(path, data=data)
            assert response.status_code == 403, (path, token)
    assert client.cookies["questlab_csrf"] == good
    assert (await client.get("/api/auth/me")).json()["user"] is not None  # still signed in: nothing happened


async def test_sign_in_is_rate_limited_per_account(client: httpx.AsyncClient):
    await sign_up(client, "limited@example.com", "correct horse")
    headers = await csrf_headers(client)
    for _ in range(5):
        response = await client.post(
            "/api/auth/login", json={"email": "limited@example.com", "password": "guess123"}, headers=headers
        )
        assert response.status_code == 401
    blocked = await client.post(
        "/api/auth/login", json={"email": "limited@example.com", "password": "correct horse"}, headers=headers
    )
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    # Another account from the same address is not blocked yet.
    await sign_up(client, "other@example.com", "correct horse")
    ok = await client.post(
        "/api/auth/login", json={"email": "other@example.com", "password": "correct horse"}, headers=headers
    )
    assert ok.status_code == 200


async def test_sign_in_is_rate_limited_per_address(settings):
    app = create_app(settings.model_copy(update={"sign_in_attempts_per_address": 3}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        headers = await csrf_headers(http)
        for number in range(3):
            response = await http.post(
                "/api/auth/login",
                json={"email": f"x{number}@example.com", "password": "p" * 8},
                headers=headers,
            )
            assert response.status_code == 401
        blocked = await http.post(
            "/api/auth/login", json={"email": "fresh@example.com", "password": "p" * 8}, headers=headers
        )
        assert blocked.status_code == 429


async def test_form_sign_in_rate_limit_page(client: httpx.AsyncClient):
    await sign_up(client, "f@example.com", "correct horse")
    await client.post("/api/auth/logout", headers=await csrf_headers(client))
    token = client.cookies["questlab_csrf"]
    for _ in range(5):
        response = await client.post(
            "/login?lang=en", data={"email": "f@example.com", "password": "wrong one", "csrf_token": token}
        )
        assert response.status_code == 401 and "Wrong email or password" in response.text
    response = await client.post(
        "/login", data={"email": "f@example.com", "password": "correct horse", "csrf_token": token}
    )
    assert response.status_code == 429 and "Too many failed sign-ins" in response.text


@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        (
            "ko",
            {
                "/login": "로그인",
                "/signup": "계정 만들기",
                "/reset": "비밀번호 재설정",
                "/logout": "로그아웃",
            },
        ),
        (
            "en",
            {
                "/login": "Sign in",
                "/signup": "Create an account",
                "/reset": "Reset your password",
                "/logout": "Sign out",
            },
        ),
    ],
)
async def test_account_pages_in_both_locales(client: httpx.AsyncClient, lang: str, texts: dict[str, str]):
    for path, text in texts.items():
        response = await client.get(f"{path}?lang={lang}")
        assert response.status_code == 200, path
        assert text in response.text and f'<html lang="{lang}">' in response.text
        if path != "/logout":
            assert 'name="csrf_token"' in response.text
    bad = await client.get(f"/reset/not-a-token?lang={lang}")
    assert bad.status_code == 400


async def test_form_signup_signs_in_and_shows_the_name_in_the_nav(client: httpx.AsyncClient):
    await client.get("/")
    token = client.cookies["questlab_csrf"]
    response = await client.post(
        "/signup",
        data={
            "email": "form@example.com",
            "password": "longenough",
            "display_name": "폼 사용자",
            "csrf_token": token,
            "next": "/quests/test/",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/quests/test/"
    page = (await client.get("/quests/test/")).text
    assert "폼 사용자" in page and 'action="/logout"' in page and 'data-signed-in="1"' in page
    evil = await client.post(
        "/login",
        data={
            "email": "form@example.com",
            "password": "longenough",
            "csrf_token": token,
            "next": "//evil.example/",
        },
    )
    assert evil.headers["location"] == "/"
    out = await client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert 'data-signed-in="0"' in (await client.get("/")).text


async def test_pages_that_need_an_account_redirect_and_the_api_answers_401(client: httpx.AsyncClient):
    response = await client.get("/me")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/me"
    assert (await client.get("/api/me/progress")).status_code == 401


async def test_require_role_and_require_user(settings):
    app = create_app(settings)

    @app.get("/api/test/admin")
    async def admin_only(user: User = Depends(require_role("admin", "moderator"))) -> dict:
        return {"id": user.id}

    with pytest.raises(ValueError):
        require_role("emperor")
    with app.state.db.session() as session:
        service.create_user(session, "boss@example.com", "longenough", role="admin")
        service.create_user(session, "pupil@example.com", "longenough")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.get("/api/test/admin")).status_code == 401
        headers = await csrf_headers(http)
        await http.post(
            "/api/auth/login", json={"email": "pupil@example.com", "password": "longenough"}, headers=headers
        )
        assert (await http.get("/api/test/admin")).status_code == 403
        await http.post(
            "/api/auth/login", json={"email": "boss@example.com", "password": "longenough"}, headers=headers
        )
        assert (await http.get("/api/test/admin")).json()["id"] > 0


class Inbox:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


async def test_password_reset_end_to_end_through_smtp(settings, smtp_server):
    inbox, port = smtp_server
    app = create_app(
        settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": port, "base_url": "http://learn.example"}
        )
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        await sign_up(http, "reset@example.com", "old password")
        other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        await other.post(
            "/api/auth/login",
            json={"email": "reset@example.com", "password": "old password"},
            headers=await csrf_headers(other),
        )
        token = http.cookies["questlab_csrf"]
        response = await http.post("/reset?lang=en", data={"email": "reset@example.com", "csrf_token": token})
        assert response.status_code == 200 and "on its way" in response.text
        nobody = await http.post("/reset?lang=en", data={"email": "nobody@example.com", "csrf_token": token})
        assert "on its way" in nobody.text  # the same answer: no way to learn which emails have accounts
        assert inbox.arrived.wait(5) and len(inbox.messages) == 1
        link = re.search(
            r"http://learn\.example/reset/([A-Za-z0-9_-]+)", inbox.messages[0].replace("=\n", "")
        )
        assert link, inbox.messages[0]
        path = f"/reset/{link.group(1)}"
        assert (await http.get(path)).status_code == 200
        short = await http.post(path, data={"password": "short", "csrf_token": token})
        assert short.status_code == 400
        done = await http.post(path, data={"password": "new password", "csrf_token": token})
        assert done.status_code == 303
        assert (await other.get("/api/auth/me")).json()["user"] is None  # signed out everywhere
        await other.aclose()
        again = await http.post(path, data={"password": "another one", "csrf_token": token})
        assert again.status_code == 400  # one-time link
        headers = await csrf_headers(http)
        old = await http.post(
            "/api/auth/login",
            json={"email": "reset@example.com", "password": "old password"},
            headers=headers,
        )
        assert old.status_code == 401
        new = await http.post(
            "/api/auth/login",
            json={"email": "reset@example.com", "password": "new password"},
            headers=headers,
        )
        assert new.status_code == 200


async def test_reset_link_goes_to_the_log_without_smtp(client: httpx.AsyncClient, caplog):
    await sign_up(client, "log@example.com", "longenough")
    with caplog.at_level("WARNING", logger="questlab.mail"):
        await client.post(
            "/reset", data={"email": "log@example.com", "csrf_token": client.cookies["questlab_csrf"]}
        )
    assert "/reset/" in caplog.text and "log@example.com" in caplog.text


def test_cli_users_create(tmp_path: Path, monkeypatch):
    from questlab.cli import app
    from questlab.db import upgrade

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("QUESTLAB_DATABASE_URL", url)
    monkeypatch.setenv("QUESTLAB_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["users", "create", "--email", "Admin@Example.com", "--password", "longenough", "--role", "admin"],
    )
    assert result.exit_code == 0, result.output
    assert "admin@example.com" in result.output and "role admin" in result.output
    again = runner.invoke(
        app, ["users", "create", "--email", "admin@example.com", "--password", "longenough"]
    )
    assert again.exit_code == 1 and "already exists" in again.output
    db = Database(url)
    with db.session() as session:
        user = session.scalars(select(User)).one()
        assert user.role == "admin" and verify_password(user.password_hash, "longenough")
    db.dispose()


def test_cli_users_create_reads_a_piped_password_only_when_asked(tmp_path: Path, monkeypatch):
    from questlab.cli import app
    from questlab.db import upgrade

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("QUESTLAB_DATABASE_URL", url)
    monkeypatch.setenv("QUESTLAB_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    # A pipe is not a terminal: no prompt to echo into, and a clear sentence instead.
    refused = runner.invoke(app, ["users", "create", "--email", "p@example.com"], input="longenough\n")
    assert refused.exit_code == 1 and "--password-stdin" in refused.output
    made = runner.invoke(
        app, ["users", "create", "--email", "p@example.com", "--password-stdin"], input="long enough pw\n"
    )
    assert made.exit_code == 0, made.output
    db = Database(url)
    with db.session() as session:
        user = session.scalars(select(User)).one()
        assert verify_password(user.password_hash, "long enough pw")
    db.dispose()
