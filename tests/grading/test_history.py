"""Kept submissions, the synced draft and ``questlab regrade``, with a real sandboxed runner."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from questlab.settings import Settings
from tests.grading.conftest import EXERCISE, REPO
from tests.helpers import csrf_headers

pytestmark = pytest.mark.anyio
BASE = "/api/quests/pytorch/networks/nn-module"
MISTAKES = EXERCISE / "mistakes"


@asynccontextmanager
async def app_over(quests: Path, tmp_path: Path, sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    from questlab.web.app import create_app

    settings = Settings(
        data_dir=tmp_path / "data",
        quests_dir=quests,
        database_url=sqlite_url,
        runner_enabled=True,
        runner_slots=2,
        sandbox="auto",
        secret_key="test-secret",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        from questlab.web.runner_glue import wait_for_runner

        await wait_for_runner(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def _sign_up(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    headers = await csrf_headers(http)
    r = await http.post(
        "/api/auth/signup", json={"email": email, "password": "correct horse"}, headers=headers
    )
    assert r.status_code == 201, r.text
    return headers


async def test_submissions_are_kept_and_private(tmp_path: Path, sqlite_url: str) -> None:
    async with app_over(REPO / "quests", tmp_path, sqlite_url) as http:
        r = await http.get(f"{BASE}/submissions")
        assert r.status_code == 401
        headers = await _sign_up(http, "history@example.com")
        wrong = (MISTAKES / "relu-after-last-layer.py").read_text()
        first = (await http.post(f"{BASE}/submit", json={"code": wrong}, headers=headers)).json()
        second = (
            await http.post(
                f"{BASE}/submit", json={"code": (EXERCISE / "solution.py").read_text()}, headers=headers
            )
        ).json()
        assert first["status"] == "fail" and second["status"] == "pass"
        listed = (await http.get(f"{BASE}/submissions")).json()["submissions"]
        assert [s["id"] for s in listed] == [second["submission_id"], first["submission_id"]]
        assert listed[1]["status"] == "fail" and listed[1]["diagnoses"] == ["relu-after-last-layer"]
        assert listed[0]["passed"] == listed[0]["total"] > 0
        one = (await http.get(f"/api/submissions/{first['submission_id']}")).json()
        assert one["code"] == wrong and one["results"]["status"] == "fail"

        # Another learner sees none of it.
        http.cookies.clear()
        await _sign_up(http, "other@example.com")
        assert (await http.get(f"/api/submissions/{first['submission_id']}")).status_code == 404
        assert (await http.get(f"{BASE}/submissions")).json()["submissions"] == []


async def test_the_draft_follows_the_learner_to_another_device(tmp_path: Path, sqlite_url: str) -> None:
    async with app_over(REPO / "quests", tmp_path, sqlite_url) as http:
        headers = await _sign_up(http, "draft@example.com")
        r = await http.put(f"{BASE}/draft", json={"code": "print('half done')"}, headers=headers)
        assert r.status_code == 200, r.text
        too_long = await http.put(f"{BASE}/draft", json={"code": "x" * 100_001}, headers=headers)
        assert too_long.status_code == 422
        # A second device: a fresh client signing in to the same account.
        http.cookies.clear()
        headers = await csrf_headers(http)
        r = await http.post(
            "/api/auth/login",
            json={"email": "draft@example.com", "password": "correct horse"},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        draft = (await http.get(f"{BASE}/draft")).json()["draft"]
        assert draft["code"] == "print('half done')" and draft["updated_at"]


def _without_check(source: str, name: str) -> str:
    """``checks.py`` with the check ``name`` removed (decorator through the end of its function)."""
    pattern = re.compile(rf'@check\("{name}".*?(?=\n@check\(|\Z)', re.S)
    changed, count = pattern.subn("", source)
    assert count == 1, name
    return changed


async def test_regrade_flips_results_notifies_and_keeps_xp(tmp_path: Path, sqlite_url: str) -> None:
    from questlab.content.loader import load_catalog
    from questlab.progress.regrade import regrade_lesson

    quests = tmp_path / "quests"
    shutil.copytree(REPO / "quests", quests)
    checks = quests / "pytorch" / "02-networks" / "01-nn-module" / "exercise" / "checks.py"
    original = checks.read_text()
    # Old checks without the behaviour check: a missing activation slips through.
    checks.write_text(_without_check(original, "forward"))
    async with app_over(quests, tmp_path, sqlite_url) as http:
        app = http._transport.app  # type: ignore[attr-defined]
        headers = await _sign_up(http, "regrade@example.com")
        slipped = (MISTAKES / "missing-activation.py").read_text()
        printed_wrong = (MISTAKES / "weight-shape-as-in-out.py").read_text()
        a = (await http.post(f"{BASE}/submit", json={"code": slipped}, headers=headers)).json()
        b = (await http.post(f"{BASE}/submit", json={"code": printed_wrong}, headers=headers)).json()
        assert a["status"] == "pass" and a["xp_awarded"] > 0 and b["status"] == "fail"
        xp_before = (await http.get("/api/me/progress")).json()["quests"]["pytorch"]["xp"]

        # The checks are corrected: behaviour is checked, the printed shapes no longer are.
        checks.write_text(_without_check(original, "printed_parameters"))
        app.state.catalog = load_catalog(quests)
        quest = app.state.catalog.quests["pytorch"]
        lesson = quest.find("networks", "nn-module")
        report = await regrade_lesson(app.state.db, quest, lesson, app.state.runner)
        assert report.judged == 2
        assert report.now_fail == [a["submission_id"]] and report.now_pass == [b["submission_id"]]

        listed = {s["id"]: s for s in (await http.get(f"{BASE}/submissions")).json()["submissions"]}
        assert listed[a["submission_id"]]["status"] == "fail" and listed[a["submission_id"]]["regraded"]
        assert listed[b["submission_id"]]["status"] == "pass"
        notes = (await http.get("/api/notifications")).json()["notifications"]
        regrades = {n["submission_id"]: n["status"] for n in notes if n["kind"] == "regrade"}
        assert regrades == {a["submission_id"]: "fail", b["submission_id"]: "pass"}
        page = await http.get("/notifications?lang=en")
        assert "no longer passes" in page.text and "now passes" in page.text
        xp_after = (await http.get("/api/me/progress")).json()["quests"]["pytorch"]["xp"]
        assert xp_after >= xp_before  # nothing taken away
