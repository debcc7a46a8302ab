"""Comment bodies: a Markdown subset rendered on the server, then sanitised with nh3.

The subset is paragraphs, line breaks, emphasis (``*em*``, ``**strong**``),
inline code, fenced and indented code blocks (highlighted by Pygments), block
quotes, lists and links. Headings, images, tables and raw HTML are not
rendered: their source shows as text. Whatever markdown-it produces goes through
nh3 with an allow-list, so the output is safe even if the parser has a bug.
Links keep only http, https and mailto URLs and get ``rel="nofollow ugc noopener"``.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

from questlab.content.markdown import highlight_code

ALLOWED_TAGS = {"p", "br", "em", "strong", "code", "pre", "a", "span", "blockquote", "ul", "ol", "li"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "span": {"class"}, "code": {"class"}, "pre": {"class"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"


def _highlight(code: str, language: str, _attrs: str) -> str:
    # markdown-it wraps the result in <pre><code class="language-..."> itself.
    language = (language or "").split()[0] if language else ""
    return highlight_code(code, language) if language else html.escape(code)


def _make_parser() -> MarkdownIt:
    parser = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False, "highlight": _highlight, "breaks": True},
    )
    parser.disable(["heading", "lheading", "image", "html_block", "html_inline", "hr", "reference"])
    return parser


_PARSER = _make_parser()


def _keep_class(tag: str, attribute: str, value: str) -> str | None:
    # Only Pygments token classes ("k", "nf", ...) and "language-x" survive; no arbitrary styling hooks.
    if attribute != "class":
        return value
    kept = [word for word in value.split() if word.replace("-", "").isalnum() and len(word) <= 40]
    return " ".join(kept) or None


def sanitize(fragment: str) -> str:
    """Clean an HTML fragment with the comment allow-list (tags, attributes, URL schemes, rel)."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
        attribute_filter=_keep_class,
    )


def render_comment(body: str) -> str:
    """Return the safe HTML of a comment's Markdown ``body``."""
    return sanitize(_PARSER.render(body))
