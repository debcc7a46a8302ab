"""Lesson Markdown: code-block attributes, extraction and HTML rendering.

Rendering uses markdown-it-py (CommonMark plus tables and strikethrough, raw
HTML disabled) and Pygments. A fenced block's info string is its language
followed by attributes, e.g. ``python title="minimal nn.Module" run``. A fence
whose language is ``output`` directly after a code block is that block's
documented output.
"""

from __future__ import annotations

import html
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

KNOWN_FLAGS = {"run"}
KNOWN_ATTRS = {"title"}


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block of a lesson.

    Attributes:
        index: 0-based position among the lesson's code blocks (``output`` fences excluded).
        language: the fence's language (``python``, ``text``, ...).
        title: the ``title="..."`` attribute, or ``""``.
        code: the block's source text.
        runnable: whether the block has the ``run`` flag (it gets a Run button and is checked).
        expected_output: the text of the ``output`` fence that follows it, or ``None``.
        line: 1-based line of the opening fence in the lesson file.
        output_line: 1-based line of the ``output`` fence, or ``None``.
    """

    index: int
    language: str
    title: str
    code: str
    runnable: bool
    expected_output: str | None
    line: int
    output_line: int | None


@dataclass(frozen=True)
class FenceInfo:
    """Parsed info string: language, attributes, flags, and any problem found."""

    language: str
    attrs: dict[str, str]
    flags: frozenset[str]
    problems: tuple[str, ...]


def parse_info(info: str) -> FenceInfo:
    """Parse a fence info string such as ``python title="a b" run``.

    Returns:
        A :class:`FenceInfo`; unknown attributes and flags, and bad quoting, are
        listed in ``problems`` (the caller reports them as warnings or errors).
    """
    try:
        words = shlex.split(info)
    except ValueError as exc:
        return FenceInfo(info.split(" ", 1)[0] if info else "", {}, frozenset(), (f"bad info string: {exc}",))
    if not words:
        return FenceInfo("", {}, frozenset(), ())
    language, rest = words[0], words[1:]
    attrs: dict[str, str] = {}
    flags: set[str] = set()
    problems: list[str] = []
    for word in rest:
        if "=" in word:
            key, value = word.split("=", 1)
            if key not in KNOWN_ATTRS:
                problems.append(f"unknown code block attribute '{key}' (known: {sorted(KNOWN_ATTRS)})")
            attrs[key] = value
        else:
            if word not in KNOWN_FLAGS:
                problems.append(f"unknown code block flag '{word}' (known: {sorted(KNOWN_FLAGS)})")
            flags.add(word)
    return FenceInfo(language, attrs, frozenset(flags), tuple(problems))


def make_parser() -> MarkdownIt:
    """Return the Markdown parser used for lessons, prompts and hints (raw HTML off)."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


_PARSER = make_parser()


def extract_code_blocks(
    tokens: list[Token], first_line: int
) -> tuple[list[CodeBlock], list[tuple[int, str]]]:
    """Collect the code blocks of a parsed lesson body.

    Args:
        tokens: markdown-it tokens of the body.
        first_line: file line number of the body's first line (after front matter).

    Returns:
        ``(blocks, problems)``; each problem is ``(line, message)``.
    """
    blocks: list[CodeBlock] = []
    problems: list[tuple[int, str]] = []
    fences = [t for t in tokens if t.type == "fence"]
    pending: dict | None = None
    for token in fences:
        info = parse_info(token.info)
        line = first_line + (token.map[0] if token.map else 0)
        problems += [(line, p) for p in info.problems]
        if info.language == "output":
            if pending is None or pending["expected_output"] is not None:
                problems.append(
                    (line, "an ```output block must directly follow the code block it belongs to")
                )
                continue
            pending["expected_output"] = token.content
            pending["output_line"] = line
            continue
        if pending is not None:
            blocks.append(CodeBlock(**pending))
        if "run" in info.flags and info.language != "python":
            problems.append((line, f"only python blocks can run, not '{info.language}'"))
        pending = {
            "index": len(blocks),
            "language": info.language or "text",
            "title": info.attrs.get("title", ""),
            "code": token.content,
            "runnable": "run" in info.flags and info.language == "python",
            "expected_output": None,
            "line": line,
            "output_line": None,
        }
    if pending is not None:
        blocks.append(CodeBlock(**pending))
    return blocks, problems


_FORMATTER = HtmlFormatter(nowrap=True)


def highlight_code(code: str, language: str) -> str:
    """Return ``code`` as Pygments HTML spans (no wrapper); plain escaped text for unknown languages."""
    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        return html.escape(code)
    return highlight(code, lexer, _FORMATTER)


def render_code_block(block: CodeBlock, gettext: Callable[[str], str], anchor: str) -> str:
    """Return the HTML figure of one code block: caption, highlighted code, documented output.

    Args:
        block: the block.
        gettext: translation function for the caption's UI words.
        anchor: element id for the figure (e.g. ``"code-1"``).
    """
    _ = gettext
    copy_label, run_label, reset_label = _("Copy"), _("Run"), _("Reset")
    output_label = _("Output")
    title = html.escape(block.title) if block.title else ""
    parts = [
        f'<figure class="code-block" id="{anchor}" data-index="{block.index}"'
        f"{' data-runnable' if block.runnable else ''}>",
        '<figcaption class="code-head">',
        f'<span class="code-title">{title}</span>' if title else "",
        f'<span class="code-lang">{html.escape(block.language)}</span>',
        '<span class="code-actions">',
        f'<button type="button" class="btn-copy" data-copy>{html.escape(copy_label)}</button>',
        (
            f'<button type="button" class="btn-run" data-run hidden>{html.escape(run_label)}</button>'
            f'<button type="button" class="btn-reset" data-reset hidden>{html.escape(reset_label)}</button>'
        )
        if block.runnable
        else "",
        "</span></figcaption>",
        f'<pre class="highlight"><code class="language-{html.escape(block.language)}">'
        f"{highlight_code(block.code, block.language)}</code></pre>",
    ]
    if block.expected_output is not None:
        parts.append(
            f'<div class="code-output documented"><div class="output-label">{html.escape(output_label)}</div>'
            f"<pre>{html.escape(block.expected_output)}</pre></div>"
        )
    parts.append('<div class="run-output" aria-live="polite" hidden></div>')
    parts.append("</figure>")
    return "".join(parts)


def render_markdown(
    text: str,
    gettext: Callable[[str], str] | None = None,
    blocks: list[CodeBlock] | None = None,
    anchor_prefix: str = "code",
) -> str:
    """Render Markdown to HTML, with code fences as titled, highlighted figures.

    Args:
        text: Markdown source.
        gettext: translation function for UI words in code captions (identity if ``None``).
        blocks: the code blocks extracted from ``text`` (by :func:`extract_code_blocks`);
            when ``None`` they are extracted here.
        anchor_prefix: prefix of the code figures' ids.

    Returns:
        HTML. Raw HTML in ``text`` is escaped, never passed through.
    """
    _ = gettext or (lambda s: s)
    tokens = _PARSER.parse(text)
    if blocks is None:
        blocks, _problems = extract_code_blocks(tokens, 1)
    queue = list(blocks)
    out_tokens: list[Token] = []
    for token in tokens:
        if token.type == "fence":
            info = parse_info(token.info)
            if info.language == "output" and not _is_orphan_output(out_tokens):
                continue  # rendered with its code block
            if info.language != "output" and queue:
                block = queue.pop(0)
                rendered = Token(
                    "html_block",
                    "",
                    0,
                    content=render_code_block(block, _, f"{anchor_prefix}-{block.index + 1}"),
                )
                out_tokens.append(rendered)
                continue
        out_tokens.append(token)
    return _RENDER_PARSER.renderer.render(out_tokens, _RENDER_PARSER.options, {})


def _is_orphan_output(out_tokens: list[Token]) -> bool:
    """Whether an ``output`` fence at this point is orphaned (no code figure right before it)."""
    return not out_tokens or out_tokens[-1].type != "html_block"


# The renderer used for pre-built figures must pass our own html_block tokens through.
_RENDER_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
