"""Comment bodies that try to inject markup come out inert: in the renderer, the API and the lesson page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from questlab.community.markup import ALLOWED_TAGS, render_comment
from tests.community_helpers import LESSON_API, LESSON_PAGE, member

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    '[x](https://ok.example "title" onmouseover=alert(1))',
    '[x](https://ok.example" onmouseover="alert(1))',
    "![img](javascript:alert(1))",
    '![x](https://evil.example/a.png" onerror="alert(1))',
    "<a href=https://ok.example onclick=alert(1)>x</a>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>body{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<form action=javascript:alert(1)><input type=submit>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    '<meta http-equiv=refresh content="0;url=javascript:alert(1)">',
    "<base href=javascript:alert(1)//>",
    "<details open ontoggle=alert(1)>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    '```" onmouseover="alert(1)\n code\n```',
    "```<img src=x onerror=alert(1)>\ncode\n```",
    "<!--><script>alert(1)</script>-->",
    "<<script>script>alert(1)<</script>/script>",
    "**<img src=x onerror=alert(1)>**",
    "> <script>alert(1)</script>",
    "- <a href=javascript:alert(1)>x</a>",
    "[a]: javascript:alert(1)\n\n[link][a]",
    '<https://ok.example/"onmouseover="alert(1)>',
    "<javascript:alert(1)>",
    "<scrIpt>alert(1)</scRipt>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    "<template><script>alert(1)</script></template>",
    "<textarea></textarea><script>alert(1)</script>",
]
SAFE_SCHEMES = ("http://", "https://", "mailto:")


class Inspector(HTMLParser):
    """Collects every problem in an HTML fragment: unknown tags, event handlers, bad URLs, styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "src", "srcdoc", "action", "formaction"):
                self.problems.append(f"attribute {name}")
            if name == "href" and not (value or "").lower().startswith(SAFE_SCHEMES):
                self.problems.append(f"href {value!r}")
        if tag == "a":
            rel = dict(attrs).get("rel") or ""
            if set(rel.split()) != {"nofollow", "ugc", "noopener"}:
                self.problems.append(f"rel {rel!r}")


def problems(fragment: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(fragment)
    inspector.close()
    return inspector.problems


def test_there_are_at_least_30_payloads():
    assert len(set(PAYLOADS)) >= 30


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_renders_inert(payload: str):
    html = render_comment(payload)
    assert problems(html) == [], html
    assert "<script" not in html.lower()


def test_allowed_markup_survives():
    html = render_comment("*a* **b** `c`\n\n```python\nx = 1\n```\n\n[d](https://example.com/) > e")
    assert "<em>a</em>" in html and "<strong>b</strong>" in html and "<code>c</code>" in html
    assert '<a href="https://example.com/" rel="nofollow ugc noopener">d</a>' in html
    assert '<pre><code class="language-python">' in html and '<span class="n">x</span>' in html


@pytest.mark.anyio
async def test_payloads_are_inert_through_the_api_and_the_page(client):
    app = client.app
    app.state.settings = app.state.settings.model_copy(
        update={"comments_per_minute": 1000, "comments_per_page": 100}
    )
    async with member(app, "mallory") as mallory:
        for payload in PAYLOADS:
            await mallory.comment(payload)
        listed = (await mallory.http.get(LESSON_API + "comments?sort=oldest")).json()
        page = (await mallory.http.get(LESSON_PAGE + "?sort=oldest")).text
    assert len(listed["comments"]) == len(PAYLOADS)
    for item in listed["comments"]:
        assert problems(item["body_html"]) == [], item["body_html"]
    section = page[page.index('id="comments"') :]
    section = section[: section.index("</section>")]
    # The writer's own Markdown source sits escaped in inert <template> elements (for editing).
    sources = re.findall(r"<template data-comment-source>(.*?)</template>", section, re.S)
    assert sources and all("<" not in source for source in sources)
    visible = re.sub(r"<template data-comment-source>.*?</template>", "", section, flags=re.S)
    inspector = Inspector()
    inspector.feed(visible)
    bad = [
        p
        for p in inspector.problems
        if p.startswith(("attribute on", "attribute style", "attribute src"))
        or p.startswith("href")
        and any(scheme in p.lower() for scheme in ("javascript", "data:", "vbscript"))
    ]
    assert bad == [] and "<script" not in visible.lower()
    for item in re.findall(r'<div class="comment-body prose" data-comment-body>(.*?)</div>', visible, re.S):
        assert problems(item) == [], item
