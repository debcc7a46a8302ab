"""The bundled PyTorch quest chapter by chapter: order, URLs, pages in both languages, graded exercises.

`questlab check --strict` (tests/grading/test_check_exercises.py) proves that every solution
passes, every starter fails and every mistake variant is diagnosed as itself; this walks
what a learner meets: the pages, their positions and the exercises' named mistakes.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from questlab.content.errors import ContentError
from questlab.content.loader import load_catalog, load_exercise
from questlab.settings import REPO_DIR, Settings

pytestmark = pytest.mark.anyio
QUESTS = REPO_DIR / "quests"
CATALOG = load_catalog(QUESTS)
QUEST = CATALOG.quests["pytorch"]
CHAPTERS = {chapter.slug: chapter for chapter in QUEST.chapters}


def test_the_bundled_quest_loads_without_a_problem() -> None:
    """A lesson with a content error is left out of the served quest, so the walks below would
    not see it: every file must load."""
    assert [p.location() + ": " + p.message for p in CATALOG.problems] == []


def test_tensors_comes_first_and_networks_keeps_its_urls() -> None:
    slugs = [chapter.slug for chapter in QUEST.chapters]
    assert slugs[:2] == ["tensors", "networks"]
    assert [c.number for c in QUEST.chapters] == sorted(c.number for c in QUEST.chapters)
    nn_module = QUEST.find("networks", "nn-module")
    assert nn_module is not None and nn_module.url() == "/quests/pytorch/networks/nn-module/"
    # Lesson URLs carry slugs only, never a chapter or lesson number.
    for lesson in QUEST.lessons():
        assert not re.search(r"/\d", lesson.url()), lesson.url()


@pytest.fixture
async def http(tmp_path: Path, sqlite_url: str):  # type: ignore[no-untyped-def]
    from questlab.web.app import create_app

    settings = Settings(
        data_dir=tmp_path / "data", quests_dir=QUESTS, database_url=sqlite_url, secret_key="t"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.mark.parametrize("chapter_slug", ["tensors", "networks", "training"])
async def test_every_lesson_of_the_chapter_renders_in_both_languages(http, chapter_slug: str) -> None:  # type: ignore[no-untyped-def]
    chapter = CHAPTERS[chapter_slug]
    total = len(chapter.lessons)
    assert total >= 3
    for position, lesson in enumerate(chapter.lessons, start=1):
        assert set(lesson.texts) == {"ko", "en"}, lesson.key
        positions = {
            "ko": f"레슨 {position:02d} / {total:02d}",
            "en": f"Lesson {position:02d} of {total:02d}",
        }
        for locale, expected in positions.items():
            r = await http.get(lesson.url(), params={"lang": locale})
            assert r.status_code == 200, (lesson.key, locale)
            assert lesson.text(locale).meta.title in r.text
            # The position follows from the content, e.g. "Lesson 03 of 08".
            assert expected in r.text, (lesson.key, locale)
            if lesson.exercise is not None:
                assert 'id="exercise"' in r.text


@pytest.mark.parametrize("chapter_slug", ["tensors", "networks", "training"])
def test_every_exercise_of_the_chapter_is_graded_with_named_mistakes(chapter_slug: str) -> None:
    for lesson in CHAPTERS[chapter_slug].lessons:
        exercise = lesson.exercise
        assert exercise is not None and exercise.graded, lesson.key
        assert len(exercise.mistakes) >= 2, lesson.key
        for mistake in exercise.mistakes:
            assert set(mistake.texts) == {"ko", "en"} and all(mistake.texts.values()), mistake.name
        assert set(exercise.hints) == {"ko", "en"} and 2 <= len(exercise.hints["ko"]) <= 5, lesson.key
        # Korean first: the editor starts with Korean TODOs for a learner reading in Korean.
        assert "ko" in exercise.starters, f"{lesson.key} has no starter.ko.py"


def _exercise(tmp_path: Path) -> Path:
    folder = tmp_path / "exercise"
    (folder / "mistakes").mkdir(parents=True)
    (folder / "prompt.ko.md").write_text("과제")
    (folder / "starter.py").write_text("x = 0\n")
    (folder / "solution.py").write_text("x = 1\n")
    (folder / "checks.py").write_text("from questlab.grading.judge import check\n")
    (folder / "probe.py").write_text("from questlab.grading.sandbox import observation\n")
    return folder


def test_a_mistake_needs_its_sentences(tmp_path: Path) -> None:
    folder = _exercise(tmp_path)
    (folder / "mistakes" / "off-by-one.py").write_text("x = 2\n")
    with pytest.raises(ContentError, match=r"no \[off-by-one\] table"):
        load_exercise(folder, ["ko", "en"])
    (folder / "mistakes.toml").write_text('[off-by-one]\nko = "하나 더 셌습니다."\n')
    with pytest.raises(ContentError, match="lacks a 'en' sentence"):
        load_exercise(folder, ["ko", "en"])
    (folder / "mistakes.toml").write_text(
        '[off-by-one]\nko = "하나 더 셌습니다."\nen = "Counted one too many."\n'
    )
    exercise = load_exercise(folder, ["ko", "en"])
    assert [m.name for m in exercise.mistakes] == ["off-by-one"] and exercise.graded
    (folder / "mistakes" / "Bad_Name.py").write_text("x = 3\n")
    with pytest.raises(ContentError, match="not kebab-case"):
        load_exercise(folder, ["ko", "en"])


def test_checks_without_a_probe_is_an_error(tmp_path: Path) -> None:
    folder = _exercise(tmp_path)
    (folder / "probe.py").unlink()
    with pytest.raises(ContentError, match="needs a probe.py"):
        load_exercise(folder, ["ko", "en"])


def test_a_localized_starter_may_differ_in_comments_and_docstrings_only(tmp_path: Path) -> None:
    folder = _exercise(tmp_path)
    (folder / "starter.py").write_text('def f():\n    """Add one."""\n    return 0  # TODO: add one\n')
    (folder / "starter.ko.py").write_text(
        'def f():\n    """1을 더합니다."""\n    return 0  # TODO: 1을 더하세요\n'
    )
    exercise = load_exercise(folder, ["ko", "en"])
    assert "1을 더하세요" in exercise.starter_for("ko")
    assert "add one" in exercise.starter_for("en")
    (folder / "starter.ko.py").write_text("def f():\n    return 1  # TODO: 1을 더하세요\n")
    with pytest.raises(ContentError, match="only its comments and docstrings translated"):
        load_exercise(folder, ["ko", "en"])


async def test_the_editor_starts_with_comments_in_the_learners_language(http) -> None:  # type: ignore[no-untyped-def]
    lesson = QUEST.find("networks", "nn-module")
    assert lesson is not None and "ko" in lesson.exercise.starters
    korean = await http.get(lesson.url(), params={"lang": "ko"})
    english = await http.get(lesson.url(), params={"lang": "en"})
    assert "TODO: self에 nn.Linear layer 세 개를" in korean.text
    assert "TODO: create three nn.Linear layers" not in korean.text
    assert "TODO: create three nn.Linear layers" in english.text


def test_positions_follow_the_order_not_the_folder_numbers(tmp_path: Path) -> None:
    import shutil

    quest = shutil.copytree(QUESTS / "pytorch", tmp_path / "pytorch")
    chapter = quest / "02-networks"
    (chapter / "03-containers").rename(chapter / "09-containers")  # a gap: 01, 02, 09
    networks = next(c for c in load_catalog(tmp_path).quests["pytorch"].chapters if c.slug == "networks")
    assert [lesson.position for lesson in networks.lessons] == list(range(1, len(networks.lessons) + 1))
    containers = networks.lessons[-1]
    expected = ("containers", 9, len(networks.lessons))
    assert (containers.slug, containers.number, containers.position) == expected
