"""Test helpers: small quest trees built from dicts of files."""

from __future__ import annotations

import textwrap
from pathlib import Path

QUEST_TOML = """\
title = { ko = "테스트 퀘스트", en = "Test quest" }
description = { ko = "설명", en = "Description" }
locales = ["ko", "en"]
chapters = ["basics"]

[[levels]]
xp = 0
name = { ko = "입문자", en = "Beginner" }

[[levels]]
xp = 120
name = { ko = "견습생", en = "Apprentice" }

[[achievements]]
id = "first-lesson"
icon = "🎯"
title = { ko = "첫 레슨", en = "First lesson" }
description = { ko = "레슨 하나 완료", en = "Complete one lesson" }
rule = { type = "lessons_completed", count = 1 }
"""

CHAPTER_TOML = (
    'title = { ko = "기초", en = "Basics" }\ndescription = { ko = "기초 챕터", en = "Basics chapter" }\n'
)


def lesson_md(title: str, status: str = "published", body: str = "본문입니다.\n") -> str:
    """A lesson file with front matter and ``body``."""
    return f'---\ntitle: "{title}"\nminutes: 5\ntags: [alpha, beta]\nstatus: {status}\nxp: 20\n---\n{body}'


CODE_BODY = textwrap.dedent("""\
    # 제목

    문단.

    ```python title="hello" run
    print(1 + 1)
    ```

    ```output
    2
    ```
    """)


def valid_files() -> dict[str, str]:
    """A small valid quest: one chapter, two published lessons and one draft, with an exercise."""
    return {
        "quest.toml": QUEST_TOML,
        "01-basics/chapter.toml": CHAPTER_TOML,
        "01-basics/01-first/lesson.ko.md": lesson_md("첫 레슨", body=CODE_BODY),
        "01-basics/01-first/lesson.en.md": lesson_md(
            "First lesson", body=CODE_BODY.replace("문단", "Paragraph")
        ),
        "01-basics/01-first/exercise/prompt.ko.md": "두 수를 더하세요.\n",
        "01-basics/01-first/exercise/prompt.en.md": "Add two numbers.\n",
        "01-basics/01-first/exercise/starter.py": "x = 0\n",
        "01-basics/01-first/exercise/solution.py": "x = 1 + 1\nprint(x)\n",
        "01-basics/01-first/exercise/hints.ko.md": "힌트 하나\n---\n힌트 둘\n",
        "01-basics/01-first/exercise/hints.en.md": "Hint one\n---\nHint two\n",
        "01-basics/02-second/lesson.ko.md": lesson_md("두 번째 레슨"),
        "01-basics/02-second/lesson.en.md": lesson_md("Second lesson"),
        "01-basics/03-draft/lesson.ko.md": lesson_md("초안 레슨", status="draft"),
    }


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path → content) under ``root`` and return ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


async def csrf_headers(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Headers carrying the client's CSRF token (fetching a page first if it has no cookie yet)."""
    token = client.cookies.get("questlab_csrf")
    if not token:
        await client.get("/")
        token = client.cookies.get("questlab_csrf")
    return {"X-CSRF-Token": token}


async def sign_up(
    client,
    email: str = "learner@example.com",
    password: str = "correct horse",  # type: ignore[no-untyped-def]
    display_name: str | None = None,
) -> dict:
    """Create an account through ``POST /api/auth/signup``; the client is then signed in. Returns the user."""
    body = {"email": email, "password": password}
    if display_name:
        body["display_name"] = display_name
    response = await client.post("/api/auth/signup", json=body, headers=await csrf_headers(client))
    assert response.status_code == 201, response.text
    return response.json()["user"]
