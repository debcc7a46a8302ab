"""The first minutes of a server: pages at once while the runner warms up, Run and Submit saying
so in the learner's language, the run sentences translated, and serve's sandbox requirement."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from questlab.cli import app as cli
from questlab.runner import service as runner_service
from questlab.runner.limits import END_SENTENCES, end_message
from questlab.settings import REPO_DIR, Settings
from questlab.web.api_run import localize_message
from tests.helpers import csrf_headers

pytestmark = pytest.mark.anyio
SUBMIT = "/api/quests/pytorch/networks/nn-module/submit"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_pages_answer_while_the_runner_warms_up(tmp_path: Path, sqlite_url: str, monkeypatch) -> None:
    """The runner's start is held back here until the test lets it go: pages must not wait for it."""
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    gate = asyncio.Event()
    original = runner_service.RunnerService._start

    async def held(self: runner_service.RunnerService) -> None:
        await gate.wait()
        await original(self)

    monkeypatch.setattr(runner_service.RunnerService, "_start", held)
    settings = Settings(
        data_dir=tmp_path / "data",
        quests_dir=REPO_DIR / "quests",
        database_url=sqlite_url,
        runner_enabled=True,
        runner_slots=1,
        secret_key="s",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as http:
            started = time.monotonic()
            page = await http.get("/quests/pytorch/networks/nn-module/")
            assert page.status_code == 200 and time.monotonic() - started < 10
            assert (await http.get("/-/health")).json()["runner"] == "starting"
            headers = await csrf_headers(http)
            for lang, words in (("ko", "준비 중"), ("en", "warming up")):
                r = await http.post(f"/api/run?lang={lang}", json={"code": "print(1)"}, headers=headers)
                assert r.status_code == 503
                body = r.json()
                assert body["status"] == "busy" and words in body["message"], body
                assert int(r.headers["Retry-After"]) >= 1
                assert f"{r.headers['Retry-After']}" in body["message"]
            graded = await http.post(SUBMIT, json={"code": "x = 1", "locale": "en"}, headers=headers)
            assert graded.status_code == 503 and "warming up" in graded.json()["message"]
            assert int(graded.headers["Retry-After"]) >= 1
            gate.set()
            await wait_for_runner(app)
            assert (await http.get("/-/health")).json()["runner"] in ("sandboxed", "unsandboxed")
            r = await http.post("/api/run", json={"code": "print(6 * 7)"}, headers=headers)
            assert r.status_code == 200 and r.json()["stdout"] == "42\n"


async def test_a_failed_start_leaves_pages_and_calls_the_hook(tmp_path: Path, sqlite_url: str, monkeypatch):
    from questlab.runner import SandboxUnavailable
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    async def fails(self: runner_service.RunnerService) -> None:
        raise SandboxUnavailable("bwrap is not installed")

    monkeypatch.setattr(runner_service.RunnerService, "_start", fails)
    settings = Settings(
        data_dir=tmp_path / "data",
        quests_dir=REPO_DIR / "quests",
        database_url=sqlite_url,
        runner_enabled=True,
        sandbox="bwrap",
        secret_key="s",
    )
    app = create_app(settings)
    seen: list[BaseException] = []
    app.state.on_runner_failure = seen.append
    async with app.router.lifespan_context(app):
        await wait_for_runner(app)
        assert app.state.runner is None and isinstance(seen[0], SandboxUnavailable)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            assert (await http.get("/")).status_code == 200
            r = await http.post("/api/run?lang=en", json={"code": "1"}, headers=await csrf_headers(http))
            assert r.status_code == 503 and r.json()["message"] == "code running is turned off on this server"


@pytest.mark.parametrize("kind", sorted(END_SENTENCES))
def test_run_sentences_are_translated(kind: str) -> None:
    english = end_message(kind, 3)
    assert localize_message(english, "en") == english
    korean = localize_message(english, "ko")
    assert korean != english and all(
        "\uac00" <= c <= "\ud7a3" for c in korean if c.isalpha() and ord(c) > 127
    )
    if kind == "exit_code":
        assert "3" in korean


def test_settings_are_not_cut_and_say_what_auto_chooses(monkeypatch) -> None:
    from questlab.runner import sandbox

    monkeypatch.setattr(
        sandbox, "probe_bwrap", lambda: "bwrap is not installed (Debian package 'bubblewrap')"
    )
    monkeypatch.setenv("QUESTLAB_SANDBOX", "auto")
    out = CliRunner().invoke(cli, ["settings"]).output
    assert "…" not in out
    for name, field in Settings.model_fields.items():
        line = next(line for line in out.splitlines() if f"QUESTLAB_{name.upper()} " in line)
        assert (field.description or "") in line, line  # one line each, whole
    assert "auto: none here (bwrap is not installed (Debian package 'bubblewrap'))" in out
    monkeypatch.setattr(sandbox, "probe_bwrap", lambda: None)
    assert "auto: bwrap here" in CliRunner().invoke(cli, ["settings"]).output


def test_serve_stops_when_a_required_sandbox_fails(monkeypatch) -> None:
    import uvicorn

    from questlab.runner import sandbox

    seen = {}
    monkeypatch.setenv("QUESTLAB_SANDBOX", "bwrap")
    monkeypatch.setattr(sandbox, "probe_bwrap", lambda: None)

    def fake_run(web, **kw):  # type: ignore[no-untyped-def]
        seen["hook"] = web.state.on_runner_failure
        monkeypatch.setattr("os.kill", lambda pid, sig: seen.setdefault("signal", sig))
        web.state.on_runner_failure(RuntimeError("the self-test failed"))

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(cli, ["serve", "--no-migrate"])
    assert result.exit_code == 1 and "the sandbox could not start" in result.output
    assert seen["hook"] is not None and "signal" in seen


@pytest.mark.parametrize(
    ("kind", "words"), [("no_input", "키보드 입력"), ("no_network", "네트워크가 없어서")]
)
def test_a_graded_run_says_what_it_cannot_do(kind: str, words: str) -> None:
    from questlab.content.loader import load_exercise
    from questlab.grading.judge.bank import Entry
    from questlab.grading.judge.results import grade
    from questlab.runner import RunResult
    from questlab.settings import REPO_DIR

    exercise = load_exercise(REPO_DIR / "quests/pytorch/02-networks/01-nn-module/exercise", ["ko", "en"])
    result = RunResult(
        status="error",
        exit_code=1,
        message=END_SENTENCES[kind],
        traceback='Traceback (most recent call last):\n  File "main.py", line 1\nEOFError\n',
        report={
            "probe": 2,
            "observations": {},
            "learner_error": {"type": "EOFError", "message": "", "line": 1},
        },
    )
    korean = grade(exercise, Entry(1, {}, []), result, "input()\n", "ko")
    assert korean["status"] == "error"
    first, _, rest = korean["message"].partition("\n")
    assert words in first and "Traceback" in rest
    assert "EOFError" in grade(exercise, Entry(1, {}, []), result, "input()\n", "en")["message"]
