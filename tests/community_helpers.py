"""Helpers for community tests: accounts with roles, each with its own signed-in client on one app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from questlab.accounts.service import create_user

PASSWORD = "correct horse battery staple"
LESSON_API = "/api/quests/test/basics/first/"
LESSON_PAGE = "/quests/test/basics/first/"


class Member:
    """A signed-in account: ``http`` is its client (cookies kept), ``id`` and ``email`` its account."""

    def __init__(self, http: httpx.AsyncClient, user_id: int, email: str):
        self.http = http
        self.id = user_id
        self.email = email

    async def headers(self) -> dict[str, str]:
        token = self.http.cookies.get("questlab_csrf")
        if not token:
            await self.http.get("/")
            token = self.http.cookies.get("questlab_csrf")
        return {"X-CSRF-Token": token or ""}

    async def post(self, url: str, json: object = None) -> httpx.Response:
        return await self.http.post(url, json=json, headers=await self.headers())

    async def put(self, url: str, json: object = None) -> httpx.Response:
        return await self.http.put(url, json=json, headers=await self.headers())

    async def delete(self, url: str) -> httpx.Response:
        return await self.http.delete(url, headers=await self.headers())

    async def comment(self, body: str, parent_id: int | None = None) -> int:
        response = await self.post(LESSON_API + "comments", {"body": body, "parent_id": parent_id})
        assert response.status_code == 201, response.text
        return response.json()["comment"]["id"]


def client_for(app: FastAPI) -> httpx.AsyncClient:
    """A fresh in-process client (own cookie jar) on ``app``."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@asynccontextmanager
async def member(app: FastAPI, name: str, role: str = "learner") -> AsyncIterator[Member]:
    """Create the account ``name`` with ``role`` and yield it signed in through ``POST /api/auth/login``."""
    email = f"{name}@example.com"
    with app.state.db.session() as session:
        user = create_user(session, email, PASSWORD, display_name=name.title(), role=role)
        session.flush()
        user_id = user.id
    async with client_for(app) as http:
        await http.get("/")
        response = await http.post(
            "/api/auth/login",
            json={"email": email, "password": PASSWORD},
            headers={"X-CSRF-Token": http.cookies["questlab_csrf"]},
        )
        assert response.status_code in (200, 201, 204), response.text
        yield Member(http, user_id, email)
