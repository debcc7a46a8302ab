"""The web pages: quest list, quest map, the lesson page's elements in both locales, 404s, drafts, headers."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

import questlab.web
from questlab.settings import Settings
from tests.helpers import sign_up

pytestmark = pytest.mark.anyio

LESSON = "/quests/test/basics/first/"

KO_ELEMENTS = [
    "questlab",
    "레슨 01 / 02",
    "공개",
    "첫 레슨",
    "약 5분",
    "alpha",
    "레벨",
    "입문자",
    "XP",
    "0/120",
    "120 XP 남음",
    "0% 완료",
    "제목",
    "hello",
    "복사",
    "연습 문제",
    "두 수를 더하세요",
    "시작 코드",
    "힌트 1",
    "진행 상황",
    "이 브라우저에만",
    "문제 신고하기",
    "댓글",
    "첫 번째로 질문",
]
EN_ELEMENTS = [
    "questlab",
    "Lesson 01 of 02",
    "published",
    "First lesson",
    "~5 min",
    "alpha",
    "Level",
    "Beginner",
    "0/120",
    "120 XP to go",
    "0% complete",
    "Paragraph",
    "hello",
    "Copy",
    "Exercise",
    "Add two numbers",
    "Starter code",
    "Hint 1",
    "Progress",
    "this browser only",
    "Report a problem",
    "Comments",
    "Be the first",
]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


async def test_index_lists_quests(client: httpx.AsyncClient):
    response = await client.get("/")
    assert response.status_code == 200
    assert "테스트 퀘스트" in response.text and 'href="/quests/test/"' in response.text
    assert "레슨 2개" in response.text


async def test_quest_map_lists_chapters_and_lessons_without_drafts(client: httpx.AsyncClient):
    response = await client.get("/quests/test/")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "기초" in page and "첫 레슨" in page and "두 번째 레슨" in page and "약 5분" in page
    assert "초안 레슨" not in page


async def test_lesson_page_has_every_element_in_order_ko(client: httpx.AsyncClient):
    response = await client.get(LESSON)
    assert response.status_code == 200
    page = text_of(response.text[response.text.index("<body") :])
    positions = [page.find(element) for element in KO_ELEMENTS]
    assert -1 not in positions, [e for e, p in zip(KO_ELEMENTS, positions, strict=False) if p == -1]
    assert (
        response.text.index("status-strip")
        < response.text.index("lesson-body")
        < response.text.index('id="exercise"')
        < response.text.index("progress-notice")
        < response.text.index("report-problem")
        < response.text.index('id="comments"')
    )
    assert positions[1:5] == sorted(positions[1:5])
    assert "data-bell" in response.text and "답글 알림" in response.text
    assert '<html lang="ko">' in response.text
    assert 'href="/quests/test/basics/second/"' in response.text  # next lesson link


async def test_lesson_page_in_english_by_query_and_cookie(client: httpx.AsyncClient):
    response = await client.get(LESSON + "?lang=en")
    assert response.status_code == 200
    page = text_of(response.text)
    missing = [element for element in EN_ELEMENTS if element not in page]
    assert missing == []
    assert "questlab_lang=en" in response.headers["set-cookie"]
    # the cookie is remembered
    again = await client.get(LESSON)
    assert '<html lang="en">' in again.text


async def test_accept_language_chooses_english(client: httpx.AsyncClient):
    response = await client.get(LESSON, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in response.text
    response = await client.get(LESSON, headers={"Accept-Language": "fr-FR,ko;q=0.5,en;q=0.4"})
    assert '<html lang="ko">' in response.text


async def test_status_strip_is_computed_from_config(client: httpx.AsyncClient):
    html = (await client.get(LESSON)).text
    assert re.search(r'data-field="lessons_total">2<', html)
    assert re.search(r'data-field="achievements_total">1<', html)
    assert re.search(r'data-field="xp_to_next">120<', html)


async def test_code_blocks_have_title_language_copy_and_documented_output(client: httpx.AsyncClient):
    html = (await client.get(LESSON)).text
    assert 'class="code-title">hello</span><span class="code-lang">python</span>' in html
    assert "data-copy" in html and "data-runnable" in html
    assert '<div class="output-label">출력</div><pre>2\n</pre>' in html


@pytest.mark.parametrize(
    "path",
    ["/quests/nope/", "/quests/test/nope/first/", "/quests/test/basics/nope/", "/quests/test/basics/draft/"],
)
async def test_unknown_or_draft_is_a_real_404(client: httpx.AsyncClient, path: str):
    response = await client.get(path)
    assert response.status_code == 404
    assert "페이지를 찾을 수 없습니다" in response.text and "<html" in response.text


async def test_preview_mode_serves_drafts(settings: Settings):
    from questlab.web.app import create_app

    app = create_app(settings.model_copy(update={"preview": True}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        response = await http.get("/quests/test/basics/draft/")
    assert response.status_code == 200 and "초안" in response.text


async def test_security_headers_on_pages_static_and_errors(client: httpx.AsyncClient):
    for path in ["/", LESSON, "/static/css/site.css", "/nope", "/-/health"]:
        response = await client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


async def test_no_inline_scripts_or_styles(client: httpx.AsyncClient):
    await sign_up(client)  # the signed-in header, the welcome, the progress on the home page
    for path in [LESSON, "/", "/quests/test/", "/me", "/signup", "/login"]:
        html = (await client.get(path)).text
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], path
        assert "style=" not in html and "<style" not in html, path
        assert re.findall(r"\son[a-z]+=", html) == [], path


def test_own_scripts_and_templates_write_no_inline_styles():
    """The policy allows no inline style (``style-src 'self'``): our scripts change classes and the
    ``hidden`` attribute, never a style attribute, ``element.style`` or a ``<style>`` element. (The
    editor bundle keeps CodeMirror's styles in constructed style sheets of a shadow root.)"""
    static = Path(questlab.web.__file__).parent
    inline = re.compile(
        r"""\.style\b|cssText|setAttribute\(\s*["']style|style=|createElement\(\s*["']style|insertRule"""
    )
    for path in [*(static / "static" / "js").glob("*.js"), *(static / "templates").glob("*.html")]:
        found = [line for line in path.read_text(encoding="utf-8").splitlines() if inline.search(line)]
        assert found == [], (path.name, found)


async def test_health(client: httpx.AsyncClient):
    response = await client.get("/-/health")
    assert response.status_code == 200
    assert response.json()["database"] is True and response.json()["quests"] == 1


async def test_missing_trailing_slash_redirects(client: httpx.AsyncClient):
    response = await client.get("/quests/test")
    assert response.status_code in (307, 308) and response.headers["location"].endswith("/quests/test/")


async def test_metrics_count_pages(client: httpx.AsyncClient):
    await client.get(LESSON)
    await client.get(LESSON)
    text = (await client.get("/-/metrics")).text
    assert 'questlab_pages_total{page="lesson"} 2.0' in text
    assert "questlab_content_errors 0.0" in text
