"""Where the learner stands, on the server's pages: the welcome after signing up with what was merged,
progress and "Continue where you left off" on the home and quest pages, the chapter's lessons on a
lesson page, and a graded lesson completed by its exercise instead of a button."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from questlab.progress.tokens import sign_exercise_pass
from questlab.settings import REPO_DIR, Settings
from tests.helpers import csrf_headers, sign_up

pytestmark = pytest.mark.anyio
SECRET = "test-secret"  # the `settings` fixture's secret_key


def local_progress(secret: str, lessons: list[str], token_for: str | None = None) -> str:
    """The ``local_progress`` field progress.js puts in the sign-up and sign-in forms."""
    quest = {"lessons_completed": lessons, "active_days": ["2026-03-10"]}
    if token_for:
        quest["exercise_tokens"] = [sign_exercise_pass(secret, "test", token_for, True, datetime.now(UTC))]
    return json.dumps({"device": "b1", "tz": "Asia/Seoul", "quests": {"test": quest}})


async def form_sign_up(client: httpx.AsyncClient, progress: str, next_path: str = "/") -> httpx.Response:
    await client.get("/")
    return await client.post(
        "/signup",
        data={
            "email": "welcome@example.com",
            "password": "longenough",
            "display_name": "Ada <b>",
            "csrf_token": client.cookies["questlab_csrf"],
            "next": next_path,
            "local_progress": progress,
        },
    )


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        (
            "en",
            "Welcome, Ada &lt;b&gt; — your local progress (2 lessons, 125 XP) is now saved to your account.",
        ),
        (
            "ko",
            "환영합니다, Ada &lt;b&gt; 님! 이 브라우저에 있던 진행 상황(레슨 2개, 125 XP)이 "
            "이제 계정에 저장되었습니다.",
        ),
    ],
)
async def test_sign_up_merges_local_progress_and_welcomes_with_what_it_merged(
    client: httpx.AsyncClient, settings: Settings, lang: str, sentence: str
):
    progress = local_progress(
        settings.secret_key, ["basics/first", "basics/second"], token_for="basics/first"
    )
    response = await form_sign_up(client, progress, next_path=f"/?lang={lang}")
    assert response.status_code == 303
    home = await client.get(response.headers["location"])
    # lessons 20 + 20, the exercise 50 + 25, two active days 5 + 5 (today's and 2026-03-10)
    assert "data-welcome" in home.text and sentence in home.text
    # merged on the server before the first page: the card shows it at once, and goes on from there
    card = home.text[home.text.index("data-quest-card") :]
    assert 'data-field="lessons_done">2<' in card and 'data-field="xp">125<' in card
    assert 'data-state="done"' in card and 'href="/quests/test/"' in card  # both lessons done
    # shown once
    assert "data-welcome" not in (await client.get(f"/?lang={lang}")).text
    mine = (await client.get("/api/me/progress")).json()["quests"]["test"]
    assert mine["lessons_completed"] == ["basics/first", "basics/second"] and mine["xp"] == 125


async def test_sign_up_without_local_progress_still_welcomes(client: httpx.AsyncClient):
    response = await form_sign_up(client, "", next_path="/quests/test/?lang=en")
    page = (await client.get(response.headers["location"])).text
    assert "Welcome, Ada &lt;b&gt; — from now on your progress is saved to your account" in page
    assert 'data-state="start"' in page and "Start the quest" in page


async def test_a_malformed_local_progress_field_does_not_stop_the_sign_up(client: httpx.AsyncClient):
    response = await form_sign_up(client, '{"quests": "nope"')
    assert response.status_code == 303
    assert "from now on your progress is saved" in (await client.get("/?lang=en")).text


async def test_a_forged_welcome_is_not_shown(client: httpx.AsyncClient):
    await sign_up(client)
    client.cookies.set("questlab_flash", "eyJraW5kIjoid2VsY29tZSIsImxlc3NvbnMiOjk5LCJ4cCI6OTl9.forged")
    assert "data-welcome" not in (await client.get("/?lang=en")).text


async def test_sign_in_merges_local_progress_with_a_notice(client: httpx.AsyncClient, settings: Settings):
    await sign_up(client, email="back@example.com", display_name="Bo")
    token = client.cookies["questlab_csrf"]
    await client.post("/logout", data={"csrf_token": token})
    login = {
        "email": "back@example.com",
        "password": "correct horse",
        "csrf_token": token,
        "next": "/?lang=en",
    }
    response = await client.post(
        "/login", data={**login, "local_progress": local_progress(SECRET, ["basics/second"])}
    )
    page = (await client.get(response.headers["location"])).text
    assert "Welcome back, Bo — your local progress (1 lesson, 30 XP) is now saved to your account." in page
    await client.post("/logout", data={"csrf_token": token})
    again = await client.post(
        "/login", data={**login, "local_progress": local_progress(SECRET, ["basics/second"])}
    )
    assert "data-welcome" not in (await client.get(again.headers["location"])).text  # nothing new merged


async def test_home_and_quest_page_continue_at_the_first_unfinished_lesson(client: httpx.AsyncClient):
    home = (await client.get("/?lang=en")).text
    assert 'data-state="start"' in home and "Start the quest" in home  # a visitor: their browser fills in
    link = re.search(r"<a [^>]*data-continue[^>]*>", home).group(0)
    assert 'href="/quests/test/basics/first/"' in link
    lessons = json.loads(re.search(r"data-lessons='([^']*)'", link).group(1))
    assert [item["key"] for item in lessons] == ["basics/first", "basics/second"]
    assert lessons[0] == {"key": "basics/first", "url": "/quests/test/basics/first/", "title": "First lesson"}

    await sign_up(client)
    await client.post(
        "/api/progress/sync",
        json={"quests": {"test": {"lessons_completed": ["basics/first"]}}},
        headers=await csrf_headers(client),
    )
    for path in ["/?lang=en", "/quests/test/?lang=en"]:
        page = (await client.get(path)).text
        link = re.search(r"<a [^>]*data-continue[^>]*>(.*?)</a>", page, re.S)
        assert 'data-state="continue"' in link.group(
            0
        ) and 'href="/quests/test/basics/second/"' in link.group(0)
        assert "Continue where you left off" in link.group(1) and "Second lesson" in link.group(1)
    home = (await client.get("/?lang=ko")).text
    assert (
        "이어서 학습하기" in home
        and 'data-field="lessons_done">1<' in home
        and 'data-field="percent">50<' in home
    )


async def test_lesson_page_lists_the_chapters_lessons_with_done_marks(client: httpx.AsyncClient):
    await sign_up(client)
    await client.post(
        "/api/progress/sync",
        json={"quests": {"test": {"lessons_completed": ["basics/second"]}}},
        headers=await csrf_headers(client),
    )
    for lang, summary in [("en", "Lessons in this chapter"), ("ko", "이 챕터의 레슨")]:
        page = (await client.get(f"/quests/test/basics/first/?lang={lang}")).text
        toc = page[page.index("data-chapter-toc") : page.index("</details>")]
        assert summary in toc and "<span data-chapter-done>1</span>/2" in toc
        first = toc[toc.index('data-lesson="basics/first"') : toc.index('data-lesson="basics/second"')]
        second = toc[toc.index('data-lesson="basics/second"') :]
        assert 'aria-current="page"' in first and "data-done-mark hidden" in first
        assert "data-done-mark>" in second and 'href="/quests/test/basics/second/"' in second


@pytest.fixture
async def pytorch_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The bundled quests, no runner: enough to render lessons with graded exercises."""
    from questlab.web.app import create_app

    app = create_app(settings.model_copy(update={"quests_dir": REPO_DIR / "quests"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


@pytest.mark.parametrize(
    ("lang", "note", "shortcut"),
    [
        ("en", "Passing the exercise completes this lesson.", "runs the code"),
        ("ko", "연습 문제를 통과하면", "로 코드 실행"),
    ],
)
async def test_a_graded_lesson_is_completed_by_its_exercise(
    pytorch_client: httpx.AsyncClient, lang: str, note: str, shortcut: str
):
    quest = pytorch_client.app.state.catalog.quests["pytorch"]  # type: ignore[attr-defined]
    lesson = quest.find("networks", "nn-module")
    page = (await pytorch_client.get(f"{lesson.url()}?lang={lang}")).text
    assert "data-mark-done" not in page and note in page and "data-completion-note" in page
    nxt = re.search(r'<p class="next-step" data-next-step hidden>(.*?)</p>', page, re.S).group(1)
    assert f'href="{lesson.next.url()}"' in nxt and "data-next-lesson" in nxt
    assert lesson.next.text(lang).meta.title in nxt
    # the keyboard shortcut is said next to Run, not only in a tooltip
    actions = page[page.index("data-exercise-actions") : page.index("data-run-output")]
    assert "<kbd>Ctrl</kbd>/<kbd>⌘</kbd>+<kbd>Enter</kbd>" in actions and shortcut in actions
    # after the quest's last lesson the link leads back to the quest page
    last = quest.lessons()[-1]
    if last.exercise is not None and last.exercise.graded:
        page = (await pytorch_client.get(f"{last.url()}?lang={lang}")).text
        nxt = re.search(r'<p class="next-step" data-next-step hidden>(.*?)</p>', page, re.S).group(1)
        assert 'href="/quests/pytorch/"' in nxt


async def test_reading_and_ungraded_lessons_keep_the_button(client: httpx.AsyncClient):
    for path in ["/quests/test/basics/second/", "/quests/test/basics/first/"]:  # no exercise; ungraded one
        page = (await client.get(path + "?lang=en")).text
        assert "data-mark-done" in page and "Mark this lesson as done" in page
        assert "data-completion-note" not in page and "data-next-step" not in page
