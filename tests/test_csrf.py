"""CSRF protection: state-changing requests need the cookie's token in X-CSRF-Token."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request

from questlab.web.csrf import CSRFMiddleware, check_form_token

pytestmark = pytest.mark.anyio


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/page")
    async def page() -> dict:
        return {}

    @app.post("/api/thing")
    async def thing() -> dict:
        return {"ok": True}

    @app.post("/form")
    async def form(request: Request) -> dict:
        data = await request.form()
        return {"ok": check_form_token(request, data.get("csrf_token"))}

    app.add_middleware(CSRFMiddleware)
    return app


async def test_cookie_is_set_and_header_is_required():
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        first = await http.get("/page")
        token = http.cookies["questlab_csrf"]
        assert "SameSite=Lax" in first.headers["set-cookie"] and len(token) > 30
        assert (await http.get("/page")).headers.get("set-cookie") is None
        assert (await http.post("/api/thing", json={})).status_code == 403
        assert (await http.post("/api/thing", json={}, headers={"X-CSRF-Token": "forged"})).status_code == 403
        assert (await http.post("/api/thing", json={}, headers={"X-CSRF-Token": token})).json() == {
            "ok": True
        }


async def test_a_request_without_cookie_is_refused_even_with_a_header():
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.post("/api/thing", json={}, headers={"X-CSRF-Token": "x"})).status_code == 403


async def test_forms_are_checked_by_the_route():
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        await http.get("/page")
        token = http.cookies["questlab_csrf"]
        assert (await http.post("/form", data={"csrf_token": token})).json() == {"ok": True}
        assert (await http.post("/form", data={"csrf_token": "nope"})).status_code == 403


async def test_form_type_without_token_is_refused_on_every_route():
    """A form-encoded request cannot skip the check on routes that read no form (e.g. a DELETE)."""
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        await http.get("/page")
        token = http.cookies["questlab_csrf"]
        form = {"content-type": "application/x-www-form-urlencoded"}
        assert (await http.post("/api/thing", content=b"a=1", headers=form)).status_code == 403
        assert (await http.post("/api/thing", content=f"csrf_token={token}", headers=form)).status_code == 200
        refused = await http.post("/form", content=b"x=1", headers=form)
        assert refused.status_code == 403 and "Reload the page" in refused.text
        huge = b"csrf_token=" + token.encode() + b"&x=" + b"a" * 1_100_000
        assert (await http.post("/form", content=huge, headers=form)).status_code == 413


async def test_multipart_needs_the_header():
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        await http.get("/page")
        token = http.cookies["questlab_csrf"]
        response = await http.post("/api/thing", files={"f": b"x"}, data={"csrf_token": token})
        assert response.status_code == 403
