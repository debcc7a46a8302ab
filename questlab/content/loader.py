"""Build quests from files in stages: discover, validate, link.

A broken file becomes a :class:`ContentProblem` (file, line, what was expected)
and only the part it defines is left out: a broken lesson never takes its
quest down, and a broken ``quest.toml`` only takes its own quest down.
"""

from __future__ import annotations

import ast
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from questlab.content.errors import ContentError, ContentProblem, problems_from_validation
from questlab.content.markdown import _PARSER, extract_code_blocks
from questlab.content.model import Chapter, Exercise, Lesson, LessonText, Mistake, Quest
from questlab.content.schema import (
    LOCALES,
    ChapterConfig,
    FrontMatter,
    QuestConfig,
    strip_number,
    unknown_keys,
)

MAX_FILE_BYTES = 1_000_000
"""Content files larger than this (1 MB) are refused: a lesson is text, not data."""


@dataclass
class Catalog:
    """Every quest that could be built, plus every problem found on the way.

    Attributes:
        quests: built quests by slug, in directory order.
        problems: errors and warnings, in discovery order.
        root: the folder the quests were loaded from.
    """

    quests: dict[str, Quest] = field(default_factory=dict)
    problems: list[ContentProblem] = field(default_factory=list)
    root: Path = Path(".")

    @property
    def errors(self) -> list[ContentProblem]:
        """Problems of severity ``error``."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[ContentProblem]:
        """Problems of severity ``warning``."""
        return [p for p in self.problems if p.severity == "warning"]


def read_text(path: Path) -> str:
    """Read a UTF-8 content file.

    Raises:
        ContentError: when the file is too large, unreadable, or not UTF-8.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ContentError(
                [
                    ContentProblem(
                        "error",
                        path,
                        None,
                        f"file is {size} bytes; content files may be at most {MAX_FILE_BYTES}",
                    )
                ]
            )
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ContentError([ContentProblem("error", path, line, "file is not valid UTF-8 text")]) from exc
    except OSError as exc:
        raise ContentError(
            [ContentProblem("error", path, None, f"cannot read file: {exc.strerror}")]
        ) from exc


def parse_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file.

    Returns:
        ``(data, text)``.

    Raises:
        ContentError: with the line of the syntax error.
    """
    text = read_text(path)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ContentError(
            [ContentProblem("error", path, int(match.group(1)) if match else None, f"invalid TOML: {exc}")]
        ) from exc


def validate(
    model: type[BaseModel],
    data: Any,
    path: Path,
    text: str,
    start_line: int = 1,
    problems: list[ContentProblem] | None = None,
) -> Any:
    """Validate ``data`` with ``model``; unknown keys are appended to ``problems`` as warnings.

    Raises:
        ContentError: one problem per validation error, with file and line.
    """
    try:
        value = model.model_validate(data)
    except ValidationError as exc:
        raise ContentError(problems_from_validation(exc, path, text, start_line)) from exc
    if problems is not None:
        from questlab.content.errors import find_key_line

        for key in unknown_keys(value):
            loc = tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", key) if p)
            problems.append(
                ContentProblem(
                    "warning", path, find_key_line(text, loc, start_line), f"unknown key '{key}' is ignored"
                )
            )
    return value


FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^---[ \t]*$\n?", re.S | re.M)


def load_lesson_text(path: Path, locale: str, problems: list[ContentProblem]) -> LessonText:
    """Load one ``lesson.<locale>.md``: front matter, body and code blocks.

    Raises:
        ContentError: missing or invalid front matter, or a broken code block.
    """
    text = read_text(path)
    match = FRONT_MATTER.match(text)
    if not match:
        raise ContentError(
            [
                ContentProblem(
                    "error", path, 1, "a lesson must start with YAML front matter between two '---' lines"
                )
            ]
        )
    raw = match.group(1)
    try:
        data = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        raise ContentError(
            [ContentProblem("error", path, line, f"invalid YAML front matter: {exc}")]
        ) from exc
    if not isinstance(data, dict):
        raise ContentError(
            [ContentProblem("error", path, 2, "front matter must be a mapping of keys to values")]
        )
    meta = validate(FrontMatter, data, path, raw, start_line=2, problems=problems)
    body = text[match.end() :]
    body_line = text[: match.end()].count("\n") + 1
    blocks, block_problems = extract_code_blocks(_PARSER.parse(body), body_line)
    errors = [
        ContentProblem("error", path, line, msg)
        for line, msg in block_problems
        if not msg.startswith("unknown")
    ]
    problems += [
        ContentProblem("warning", path, line, msg)
        for line, msg in block_problems
        if msg.startswith("unknown")
    ]
    if errors:
        raise ContentError(errors)
    for block in blocks:
        if block.runnable and block.expected_output is None:
            problems.append(
                ContentProblem("warning", path, block.line, "runnable block has no ```output block after it")
            )
    return LessonText(locale, path, meta, body, body_line, blocks)


def load_hints(path: Path) -> list[str]:
    """Split a hints file into hints at lines holding only ``---``."""
    text = read_text(path)
    return [part.strip() for part in re.split(r"^---[ \t]*$", text, flags=re.M) if part.strip()]


def load_exercise(folder: Path, locales: list[str]) -> Exercise:
    """Load an ``exercise/`` folder.

    Raises:
        ContentError: a required file (``prompt.ko.md``, ``starter.py``, ``solution.py``) is missing,
            or a Python file does not compile.
    """
    missing = [
        name for name in ("prompt.ko.md", "starter.py", "solution.py") if not (folder / name).is_file()
    ]
    if missing:
        raise ContentError(
            [ContentProblem("error", folder, None, f"exercise folder lacks {', '.join(missing)}")]
        )
    sources = {}
    for name in ("starter.py", "solution.py", "checks.py", "probe.py"):
        if (folder / name).is_file():
            sources[name] = read_python(folder / name)
    if "checks.py" in sources and "probe.py" not in sources:
        raise ContentError(
            [
                ContentProblem(
                    "error",
                    folder / "checks.py",
                    None,
                    "checks.py needs a probe.py beside it: the checks judge what probe.py observes "
                    "(docs/grading.md)",
                )
            ]
        )
    prompts = {
        loc: read_text(folder / f"prompt.{loc}.md")
        for loc in locales
        if (folder / f"prompt.{loc}.md").is_file()
    }
    hints = {
        loc: load_hints(folder / f"hints.{loc}.md")
        for loc in locales
        if (folder / f"hints.{loc}.md").is_file()
    }
    return Exercise(
        folder,
        prompts,
        sources["starter.py"],
        sources["solution.py"],
        sources.get("checks.py"),
        hints,
        probe=sources.get("probe.py"),
        mistakes=load_mistakes(folder, locales),
        starters=load_localized_starters(folder, locales, sources["starter.py"]),
    )


def _program_shape(source: str) -> str:
    """``ast.dump`` of ``source`` without docstrings: what a comment-only translation keeps."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body[0] = ast.Pass()
    return ast.dump(tree)


def load_localized_starters(folder: Path, locales: list[str], starter: str) -> dict[str, str]:
    """Load ``starter.<locale>.py`` files: the starter with comments in the learner's language.

    Raises:
        ContentError: a localized starter does not compile, or differs from ``starter.py`` in more
            than comments and docstrings (``questlab check`` verifies ``starter.py`` only, so the
            programs must be the same).
    """
    starters = {}
    for locale in locales:
        path = folder / f"starter.{locale}.py"
        if not path.is_file():
            continue
        source = read_python(path)
        if _program_shape(source) != _program_shape(starter):
            raise ContentError(
                [
                    ContentProblem(
                        "error",
                        path,
                        None,
                        f"starter.{locale}.py must be starter.py with only its comments and "
                        "docstrings translated; the code differs",
                    )
                ]
            )
        starters[locale] = source
    return starters


def read_python(path: Path) -> str:
    """Read a Python file and compile it (nothing runs).

    Raises:
        ContentError: when it does not compile.
    """
    source = read_text(path)
    try:
        compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise ContentError(
            [ContentProblem("error", path, exc.lineno, f"Python syntax error: {exc.msg}")]
        ) from exc
    return source


_MISTAKE_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def load_mistakes(folder: Path, locales: list[str]) -> list[Mistake]:
    """Load ``mistakes/*.py`` and their explanations from ``mistakes.toml``.

    ``mistakes.toml`` has one table per variant, named like its file, with a sentence per
    locale: ``[relu-after-last-layer]`` / ``ko = "..."`` / ``en = "..."``.

    Raises:
        ContentError: a name that is not kebab-case, a variant without its table (or a table
            without its file), a missing or empty locale sentence, or a file that does not compile.
    """
    files = sorted((folder / "mistakes").glob("*.py")) if (folder / "mistakes").is_dir() else []
    toml_path = folder / "mistakes.toml"
    if not files and not toml_path.is_file():
        return []
    problems: list[ContentProblem] = []
    tables: dict = {}
    if toml_path.is_file():
        data, _ = parse_toml(toml_path)
        tables = data if isinstance(data, dict) else {}
    mistakes = []
    for path in files:
        name = path.stem
        if not _MISTAKE_NAME.match(name):
            problems.append(ContentProblem("error", path, None, f"mistake name {name!r} is not kebab-case"))
            continue
        table = tables.get(name)
        if not isinstance(table, dict):
            problems.append(ContentProblem("error", toml_path, None, f"mistakes.toml has no [{name}] table"))
            continue
        texts = {}
        for loc in locales:
            text = table.get(loc)
            if not isinstance(text, str) or not text.strip():
                problems.append(
                    ContentProblem("error", toml_path, None, f"[{name}] lacks a {loc!r} sentence")
                )
            else:
                texts[loc] = text.strip()
        mistakes.append(Mistake(name, path, read_python(path), texts))
    for name in tables:
        if not (folder / "mistakes" / f"{name}.py").is_file():
            problems.append(ContentProblem("error", toml_path, None, f"[{name}] has no mistakes/{name}.py"))
    if problems:
        raise ContentError(problems)
    return mistakes


def load_lesson(
    folder: Path, number: int, slug: str, locales: list[str], problems: list[ContentProblem]
) -> Lesson:
    """Load a lesson folder (every locale file and the exercise).

    Raises:
        ContentError: the Korean text is missing or any file of the lesson is broken.
    """
    if not (folder / "lesson.ko.md").is_file():
        raise ContentError([ContentProblem("error", folder, None, "lesson folder lacks lesson.ko.md")])
    texts: dict[str, LessonText] = {}
    errors: list[ContentProblem] = []
    for locale in locales:
        path = folder / f"lesson.{locale}.md"
        if not path.is_file():
            problems.append(
                ContentProblem(
                    "warning", folder, None, f"no lesson.{locale}.md: the Korean text is shown instead"
                )
            )
            continue
        try:
            texts[locale] = load_lesson_text(path, locale, problems)
        except ContentError as exc:
            errors += exc.problems
    for path in folder.glob("lesson.*.md"):
        if path.name.split(".")[1] not in LOCALES:
            problems.append(
                ContentProblem("warning", path, None, f"locale is not one of {list(LOCALES)}; file ignored")
            )
    exercise = None
    if (folder / "exercise").is_dir():
        try:
            exercise = load_exercise(folder / "exercise", locales)
        except ContentError as exc:
            errors += exc.problems
    if errors:
        raise ContentError(errors)
    requires = {text.meta.requires for text in texts.values()}
    if len(requires) > 1:
        raise ContentError(
            [ContentProblem("error", folder, None, "the lesson's locales ask for different `requires`")]
        )
    if exercise is not None:
        exercise.requires = next(iter(requires), None)
    return Lesson(slug, number, folder, texts, exercise)


def numbered_dirs(folder: Path, problems: list[ContentProblem]) -> list[tuple[int, str, Path]]:
    """List ``NN-slug`` sub-folders of ``folder`` sorted by number; others are warned about."""
    found = []
    for child in sorted(folder.iterdir()):
        if not child.is_dir() or child.name.startswith((".", "_")) or child.name == "exercise":
            continue
        parsed = strip_number(child.name)
        if parsed is None:
            problems.append(
                ContentProblem(
                    "warning", child, None, "folder name is not 'NN-slug' (e.g. 01-nn-module); ignored"
                )
            )
            continue
        found.append((parsed[0], parsed[1], child))
    return sorted(found)


def content_version(folder: Path) -> str:
    """Return a short hash of every file's path and bytes under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_quest(folder: Path, problems: list[ContentProblem], preview: bool = False) -> Quest:
    """Build one quest: validate ``quest.toml``, each chapter and lesson, then link neighbours.

    Args:
        folder: ``quests/<quest>``.
        problems: list that receives every problem found.
        preview: serve draft lessons too.

    Raises:
        ContentError: ``quest.toml`` is missing or invalid (broken chapters and lessons
            are only recorded in ``problems``).
    """
    path = folder / "quest.toml"
    if not path.is_file():
        raise ContentError([ContentProblem("error", folder, None, "quest folder lacks quest.toml")])
    data, text = parse_toml(path)
    config: QuestConfig = validate(QuestConfig, data, path, text, problems=problems)
    on_disk = {slug: (number, child) for number, slug, child in numbered_dirs(folder, problems)}
    chapters: list[Chapter] = []
    for slug in config.chapters:
        if slug not in on_disk:
            from questlab.content.errors import find_key_line

            problems.append(
                ContentProblem(
                    "error",
                    path,
                    find_key_line(text, ("chapters",)),
                    f"chapter '{slug}' is listed but there is no folder NN-{slug}",
                )
            )
            continue
        number, chapter_dir = on_disk[slug]
        try:
            chapter = load_chapter(chapter_dir, number, slug, folder.name, config, problems, preview)
        except ContentError as exc:
            problems += exc.problems
            continue
        chapters.append(chapter)
    for slug, (_number, chapter_dir) in on_disk.items():
        if slug not in config.chapters:
            problems.append(
                ContentProblem(
                    "warning",
                    chapter_dir,
                    None,
                    "chapter folder is not listed in quest.toml 'chapters'; ignored",
                )
            )
    quest = Quest(folder.name, folder, config, chapters, content_version(folder))
    link(quest)
    check_rules(quest, path, text, problems)
    return quest


def load_chapter(
    folder: Path,
    number: int,
    slug: str,
    quest_slug: str,
    config: QuestConfig,
    problems: list[ContentProblem],
    preview: bool,
) -> Chapter:
    """Build one chapter and its lessons; broken lessons are recorded and left out.

    Raises:
        ContentError: ``chapter.toml`` is missing or invalid.
    """
    path = folder / "chapter.toml"
    if not path.is_file():
        raise ContentError([ContentProblem("error", folder, None, "chapter folder lacks chapter.toml")])
    data, text = parse_toml(path)
    chapter_config = validate(ChapterConfig, data, path, text, problems=problems)
    chapter = Chapter(slug, number, folder, chapter_config, quest_slug)
    for lesson_number, lesson_slug, lesson_dir in numbered_dirs(folder, problems):
        try:
            lesson = load_lesson(lesson_dir, lesson_number, lesson_slug, list(config.locales), problems)
        except ContentError as exc:
            problems += exc.problems
            continue
        if lesson.status == "draft" and not preview:
            continue
        lesson.chapter = chapter
        chapter.lessons.append(lesson)
    return chapter


def link(quest: Quest) -> None:
    """Set each served lesson's ``previous`` and ``next`` in quest order."""
    lessons = quest.lessons()
    for before, after in zip(lessons, lessons[1:], strict=False):
        before.next = after
        after.previous = before


def check_rules(quest: Quest, path: Path, text: str, problems: list[ContentProblem]) -> None:
    """Check that achievement rules name chapters that exist, and warn about counts the quest's
    lessons and exercises cannot reach (an achievement nobody can earn)."""
    from questlab.content.errors import find_key_line

    chapters = {c.slug for c in quest.chapters}
    reachable = {
        "lessons_completed": len(quest.lessons()),
        "exercises_passed": quest.exercise_count(),
        "first_try_passes": quest.exercise_count(),
    }
    for index, achievement in enumerate(quest.config.achievements):
        kind = achievement.rule.type
        if kind in reachable and achievement.rule.param("count") > reachable[kind]:
            problems.append(
                ContentProblem(
                    "warning",
                    path,
                    find_key_line(text, ("achievements", index, "rule")),
                    f"achievement '{achievement.id}' needs {achievement.rule.param('count')} for "
                    f"'{kind}' but the quest has only {reachable[kind]}: nobody can earn it yet",
                )
            )
        if achievement.rule.type in ("chapter_completed", "chapter_exercises"):
            name = achievement.rule.param("chapter")
            if name not in chapters:
                problems.append(
                    ContentProblem(
                        "error",
                        path,
                        find_key_line(text, ("achievements", index, "rule")),
                        f"achievement '{achievement.id}' names chapter '{name}', which does not exist",
                    )
                )


def load_catalog(root: Path, preview: bool = False) -> Catalog:
    """Load every quest under ``root`` (each sub-folder holding a ``quest.toml``).

    Args:
        root: the quests folder, or a single quest folder (one with ``quest.toml``).
        preview: serve draft lessons too.

    Returns:
        A :class:`Catalog`; never raises for broken content.
    """
    catalog = Catalog(root=root)
    if not root.is_dir():
        catalog.problems.append(ContentProblem("error", root, None, "quests folder does not exist"))
        return catalog
    folders = (
        [root]
        if (root / "quest.toml").is_file()
        else [
            child
            for child in sorted(root.iterdir())
            if child.is_dir() and not child.name.startswith((".", "_"))
        ]
    )
    for folder in folders:
        try:
            catalog.quests[folder.name] = load_quest(folder, catalog.problems, preview)
        except ContentError as exc:
            catalog.problems += exc.problems
    return catalog
