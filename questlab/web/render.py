"""HTML rendering: one Jinja environment per locale, and the cached lesson HTML."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from questlab.content.markdown import render_markdown
from questlab.content.model import Lesson, Quest
from questlab.web.i18n import translations

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@cache
def environment(locale: str) -> Environment:
    """Return the Jinja environment for ``locale``, with gettext installed (``_``, ``ngettext``)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["locale"] = locale
    env.filters["localized"] = lambda value: (value.get(locale) or value.get("ko", "")) if value else ""
    return env


def render(locale: str, template: str, **context: Any) -> str:
    """Render ``template`` in ``locale`` with ``context``."""
    return environment(locale).get_template(template).render(**context)


def gettext(locale: str):  # type: ignore[no-untyped-def]
    """Return the gettext function for ``locale``."""
    return translations(locale).gettext


_LESSON_CACHE: dict[tuple[str, str, str, str], dict[str, Any]] = {}
_LESSON_CACHE_MAX = 512


def _lesson_html(lesson: Lesson, locale: str) -> dict[str, Any]:
    text = lesson.text(locale)
    _ = gettext(locale)
    html: dict[str, Any] = {"body": Markup(render_markdown(text.body, _, text.code_blocks))}
    exercise = lesson.exercise
    if exercise is not None:
        prompt = exercise.prompts.get(locale) or exercise.prompts.get("ko", "")
        hints = exercise.hints.get(locale) or exercise.hints.get("ko", [])
        html["prompt"] = Markup(render_markdown(prompt, _, anchor_prefix="prompt-code"))
        html["hints"] = [
            Markup(render_markdown(h, _, anchor_prefix=f"hint{i}-code")) for i, h in enumerate(hints)
        ]
        starter = exercise.starter_for(locale)
        html["starter_source"] = starter
        html["starter"] = Markup(render_markdown(f"```python\n{starter}```\n", _, anchor_prefix="starter"))
    return html


def lesson_html(quest: Quest, lesson: Lesson, locale: str) -> dict[str, Any]:
    """Return the rendered parts of a lesson: ``body``, and ``prompt``, ``hints`` and ``starter`` when it
    has an exercise.

    Cached per (quest, lesson, locale, content version): a changed quest renders anew.
    """
    key = (quest.slug, lesson.key, locale, quest.version)
    cached = _LESSON_CACHE.get(key)
    if cached is None:
        if len(_LESSON_CACHE) >= _LESSON_CACHE_MAX:
            _LESSON_CACHE.clear()
        cached = _LESSON_CACHE[key] = _lesson_html(lesson, locale)
    return cached
