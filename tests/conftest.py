"""Shared fixtures: databases (SQLite and the real PostgreSQL), settings, the in-process app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from questlab.db import upgrade
from questlab.settings import Settings
from tests.helpers import valid_files, write_tree

POSTGRES_ADMIN = os.environ.get("QUESTLAB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def quest_root(tmp_path: Path) -> Path:
    """A quests folder holding the small valid test quest as ``quests/test``."""
    write_tree(tmp_path / "quests" / "test", valid_files())
    return tmp_path / "quests"


def _postgres_database() -> Iterator[str]:
    name = f"questlab_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database URL: SQLite in tmp_path, and a new database on the real PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        upgrade(url)
        yield url
    else:
        for url in _postgres_database():
            upgrade(url)
            yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database (for tests that do not need to run on both databases)."""
    url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, quest_root: Path, sqlite_url: str) -> Settings:
    """Settings for an app over the test quest, SQLite, and no runner."""
    return Settings(
        data_dir=tmp_path / "data",
        quests_dir=quest_root,
        database_url=sqlite_url,
        runner_enabled=False,
        secret_key="test-secret",
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process (lifespan started)."""
    from questlab.web.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its lowest cost in tests: the real parameters take ~0.5 s per hash on a CI machine."""
    from argon2 import PasswordHasher

    from questlab.accounts import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "DUMMY_HASH", cheap.hash("questlab-no-such-account"))
