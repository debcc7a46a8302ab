"""The database layer on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from questlab.db import Database
from questlab.db.models import Comment, User


def test_migrations_create_schema_and_roundtrip(database_url: str):
    db = Database(database_url)
    try:
        assert db.is_current()
        assert {"users", "comments", "alembic_version"} <= set(db.table_names())
        with db.session() as session:
            user = User(email="a@example.com", display_name="A", password_hash="x")
            session.add(user)
            session.flush()
            session.add(Comment(quest="q", chapter="c", lesson="l", user_id=user.id, body="안녕"))
        with db.session() as session:
            comment = session.scalars(select(Comment)).one()
            assert comment.body == "안녕" and comment.hidden is False and comment.created_at is not None
    finally:
        db.dispose()


def test_session_rolls_back_on_error(database_url: str):
    db = Database(database_url)
    try:
        with pytest.raises(RuntimeError):
            with db.session() as session:
                session.add(User(email="b@example.com", display_name="B", password_hash="x"))
                session.flush()
                raise RuntimeError("boom")
        with db.session() as session:
            assert session.scalars(select(User)).all() == []
    finally:
        db.dispose()


@pytest.mark.anyio
async def test_lesson_page_counts_comments_from_the_database(database_url: str, settings):
    from questlab.web.app import create_app

    db = Database(database_url)
    with db.session() as session:
        user = User(email="c@example.com", display_name="C", password_hash="x")
        session.add(user)
        session.flush()
        for body, hidden in [("one", False), ("two", False), ("hidden", True)]:
            session.add(
                Comment(
                    quest="test", chapter="basics", lesson="first", user_id=user.id, body=body, hidden=hidden
                )
            )
    app = create_app(settings.model_copy(update={"database_url": database_url}), database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        html = (await http.get("/quests/test/basics/first/")).text
    db.dispose()
    assert "data-comment-count>2<" in html and "첫 번째로 질문" not in html
