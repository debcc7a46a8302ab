"""A lesson may ask its runs for a capability (front matter ``requires``); a runner that does not
offer it refuses Run and Submit at once, by name, in the learner's language."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from questlab.content.loader import load_catalog
from questlab.settings import REPO_DIR, Settings
from tests.helpers import csrf_headers

pytestmark = pytest.mark.anyio
LESSON = Path("pytorch") / "02-networks" / "01-nn-module"


def _quests(tmp_path: Path, ko: str = "cuda", en: str = "cuda") -> Path:
    root = tmp_path / "quests"
    shutil.copytree(REPO_DIR / "quests" / "pytorch", root / "pytorch")
    for locale, value in (("ko", ko), ("en", en)):
        path = root / LESSON / f"lesson.{locale}.md"
        text = path.read_text()
        path.write_text(text.replace("status: published\n", f"status: published\nrequires: {value}\n", 1))
    return root


def test_requires_is_read_and_must_agree_across_locales(tmp_path: Path) -> None:
    catalog = load_catalog(_quests(tmp_path))
    lesson = catalog.quests["pytorch"].find("networks", "nn-module")
    assert lesson.text("en").meta.requires == "cuda" and lesson.exercise.requires == "cuda"
    other = tmp_path / "other"
    other.mkdir()
    broken = load_catalog(_quests(other, ko="cuda", en="tpu"))
    assert any("different `requires`" in p.message for p in broken.errors)
    assert broken.quests["pytorch"].find("networks", "nn-module") is None


async def test_a_lesson_asking_for_cuda_is_refused_by_the_cpu_runner(tmp_path: Path, sqlite_url: str) -> None:
    from questlab.web.app import create_app
    from questlab.web.runner_glue import wait_for_runner

    settings = Settings(
        data_dir=tmp_path / "data",
        quests_dir=_quests(tmp_path),
        database_url=sqlite_url,
        runner_slots=1,
        secret_key="s",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await wait_for_runner(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as http:
            headers = await csrf_headers(http)
            key = "pytorch/networks/nn-module"
            for lang, words in (("en", "offers cuda"), ("ko", "cuda을(를) 제공하는")):
                r = await http.post(
                    f"/api/run?lang={lang}", json={"code": "print(1)", "lesson": key}, headers=headers
                )
                assert r.status_code == 503 and words in r.json()["message"], r.text
            # Another lesson's code (or code from no lesson) runs as before.
            other = {"code": "print(1)", "lesson": "pytorch/networks/containers"}
            plain = await http.post("/api/run", json=other, headers=headers)
            assert plain.status_code == 200 and plain.json()["stdout"] == "1\n"
            submit = await http.post(
                "/api/quests/pytorch/networks/nn-module/submit",
                json={"code": "x = 1", "locale": "en"},
                headers=headers,
            )
            assert submit.status_code == 503 and "offers cuda" in submit.json()["message"]
