"""The built content: quests, chapters, lessons and exercises, as the web and CLI see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from questlab.content.markdown import CodeBlock
from questlab.content.schema import ChapterConfig, FrontMatter, QuestConfig


@dataclass
class LessonText:
    """One locale of a lesson: its front matter, Markdown body and code blocks.

    Attributes:
        locale: ``"ko"`` or ``"en"``.
        path: the ``lesson.<locale>.md`` file.
        meta: the validated front matter.
        body: Markdown body (front matter removed).
        body_line: file line number of the body's first line.
        code_blocks: the body's code blocks, in order.
    """

    locale: str
    path: Path
    meta: FrontMatter
    body: str
    body_line: int
    code_blocks: list[CodeBlock]


@dataclass
class Mistake:
    """A named mistake variant: the reference solution with one classic mistake.

    Attributes:
        name: kebab-case name (the file name without ``.py``), shown as the diagnosis.
        path: the ``mistakes/<name>.py`` file.
        source: its code (never sent to the browser or into a learner's run).
        texts: the explanation and fix per locale, from ``mistakes.toml``.
    """

    name: str
    path: Path
    source: str
    texts: dict[str, str]


@dataclass
class Exercise:
    """A lesson's exercise folder. Only the prompts, hints and starter go to the browser.

    Attributes:
        path: the ``exercise/`` folder.
        prompts: Markdown task per locale.
        starter: starter code shown in the editor.
        solution: reference solution (must pass every check); runs only in trusted runs.
        checks: source of ``checks.py`` (judged on the server), or ``None`` when not graded yet.
        hints: hints per locale, in order from gentle to explicit.
        probe: source of ``probe.py``, the only exercise code that enters a learner's run.
        mistakes: the named mistake variants, by name.
        starters: ``starter.<locale>.py`` per locale where one exists: the same program as
            ``starter.py`` with its comments (and docstrings) in that language.
        requires: the capability its lesson's runs need (front matter ``requires``), or ``None``;
            the trusted runs of the solution and mistakes go to the same kind of runner.
    """

    path: Path
    prompts: dict[str, str]
    starter: str
    solution: str
    checks: str | None
    hints: dict[str, list[str]]
    probe: str | None = None
    mistakes: list[Mistake] = field(default_factory=list)
    starters: dict[str, str] = field(default_factory=dict)
    requires: str | None = None

    def starter_for(self, locale: str) -> str:
        """The starter code shown to a learner reading in ``locale`` (``starter.py`` when that
        locale has no ``starter.<locale>.py``)."""
        return self.starters.get(locale, self.starter)

    @property
    def graded(self) -> bool:
        """Whether submissions are graded (both ``checks.py`` and ``probe.py`` exist)."""
        return bool(self.checks and self.probe)


@dataclass
class Lesson:
    """A lesson: position, texts per locale and optional exercise.

    Attributes:
        slug: URL slug (directory name without its ``NN-`` prefix).
        number: the ``NN`` of the directory (1-based position in its chapter).
        path: the lesson directory.
        texts: :class:`LessonText` per locale; ``"ko"`` is always present.
        exercise: the exercise, or ``None``.
        chapter: the owning chapter (set when linked).
        previous, next: neighbours in quest order among the lessons served (set when linked).
    """

    slug: str
    number: int
    path: Path
    texts: dict[str, LessonText]
    exercise: Exercise | None = None
    chapter: Chapter | None = field(default=None, repr=False)
    previous: Lesson | None = field(default=None, repr=False)
    next: Lesson | None = field(default=None, repr=False)

    def text(self, locale: str) -> LessonText:
        """Return the text for ``locale``, falling back to Korean."""
        return self.texts.get(locale) or self.texts["ko"]

    @property
    def status(self) -> str:
        """``"published"`` or ``"draft"``, from the Korean front matter."""
        return self.texts["ko"].meta.status

    @property
    def key(self) -> str:
        """``"<chapter>/<lesson>"``: the lesson's id within its quest."""
        assert self.chapter is not None
        return f"{self.chapter.slug}/{self.slug}"

    @property
    def requires(self) -> str | None:
        """The capability the lesson's runs need (front matter ``requires``, the same in every
        locale), or ``None``."""
        return self.text("ko").meta.requires

    @property
    def position(self) -> int:
        """1-based place among the chapter's served lessons (what "Lesson 03 of 08" shows); the
        folder's ``NN`` only orders them, so a gap or a draft never skews the count."""
        assert self.chapter is not None
        return next(i for i, lesson in enumerate(self.chapter.lessons, start=1) if lesson is self)

    def url(self) -> str:
        """Site path of the lesson page, e.g. ``/quests/pytorch/networks/nn-module/``."""
        assert self.chapter is not None
        return f"/quests/{self.chapter.quest_slug}/{self.chapter.slug}/{self.slug}/"


@dataclass
class Chapter:
    """A chapter: config and its lessons in order (those served, drafts only in preview)."""

    slug: str
    number: int
    path: Path
    config: ChapterConfig
    quest_slug: str
    lessons: list[Lesson] = field(default_factory=list)


@dataclass
class Quest:
    """A fully built quest.

    Attributes:
        slug: URL slug (the quest's directory name).
        path: the quest directory.
        config: validated ``quest.toml``.
        chapters: chapters in ``quest.toml`` order, each with its served lessons.
        version: a hash of every file the quest was built from (for caches).
    """

    slug: str
    path: Path
    config: QuestConfig
    chapters: list[Chapter]
    version: str

    def lessons(self) -> list[Lesson]:
        """All served lessons in quest order."""
        return [lesson for chapter in self.chapters for lesson in chapter.lessons]

    def find(self, chapter_slug: str, lesson_slug: str) -> Lesson | None:
        """Return the lesson ``chapter_slug/lesson_slug``, or ``None``."""
        for chapter in self.chapters:
            if chapter.slug == chapter_slug:
                for lesson in chapter.lessons:
                    if lesson.slug == lesson_slug:
                        return lesson
        return None

    def exercise_count(self) -> int:
        """Number of served lessons that have an exercise."""
        return sum(1 for lesson in self.lessons() if lesson.exercise is not None)
