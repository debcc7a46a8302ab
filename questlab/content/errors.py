"""Problems found while loading content: each names a file, a line and what was expected."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError


@dataclass(frozen=True)
class ContentProblem:
    """One error or warning about a content file.

    Attributes:
        severity: ``"error"`` (the file, or the part it defines, is left out) or
            ``"warning"`` (served anyway, e.g. an unknown key).
        path: the file the problem is in.
        line: 1-based line number in that file, or ``None`` when unknown.
        message: a sentence saying what is wrong and what was expected.
    """

    severity: Literal["error", "warning"]
    path: Path
    line: int | None
    message: str

    def location(self, root: Path | None = None) -> str:
        """Return ``path:line`` with ``path`` relative to ``root`` when possible."""
        path = self.path
        if root is not None:
            try:
                path = self.path.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        return f"{path}:{self.line}" if self.line else str(path)

    def __str__(self) -> str:
        return f"{self.location()}: {self.severity}: {self.message}"


class ContentError(Exception):
    """Raised inside the loader when a file cannot be used; carries its :class:`ContentProblem`s."""

    def __init__(self, problems: list[ContentProblem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def find_key_line(text: str, loc: tuple[int | str, ...], start_line: int = 1) -> int | None:
    """Best-effort line of a pydantic error location inside TOML or YAML ``text``.

    Args:
        text: the source text the data was parsed from.
        loc: a pydantic error location, e.g. ``("achievements", 2, "rule", "count")``.
        start_line: line number of ``text``'s first line in its file (front matter
            starts after the opening ``---``).

    Returns:
        The 1-based line in the file, or ``None`` if no key of ``loc`` is found.
    """
    lines = text.splitlines()
    pos = 0  # index into lines where the search continues
    found: int | None = None
    previous: str | None = None
    for part in loc:
        if isinstance(part, int):
            if previous is None:
                continue
            # TOML array of tables: the (part+1)-th "[[previous]]" header.
            header = re.compile(rf"^\s*\[\[\s*{re.escape(previous)}\s*\]\]")
            hits = [i for i, line in enumerate(lines) if header.match(line)]
            if part < len(hits):
                pos = hits[part]
                found = pos
                continue
            # YAML list: the (part+1)-th "- " item after the key.
            items = [i for i in range(pos, len(lines)) if re.match(r"^\s*-\s", lines[i])]
            if part < len(items):
                pos = items[part]
                found = pos
            continue
        key = re.compile(
            rf"^\s*(\[+\s*)?[\"']?{re.escape(part)}[\"']?\s*(\]+|=|:)|[{{,]\s*{re.escape(part)}\s*="
        )
        for i in range(pos, len(lines)):
            if key.search(lines[i]):
                pos = i
                found = i
                break
        previous = part
    return None if found is None else found + start_line


def problems_from_validation(
    error: ValidationError, path: Path, text: str, start_line: int = 1
) -> list[ContentProblem]:
    """Turn a pydantic ``ValidationError`` into one :class:`ContentProblem` per error.

    The message names the key (dotted, e.g. ``achievements[2].rule.count``), what
    pydantic expected, and the value found.
    """
    problems = []
    for err in error.errors():
        loc = tuple(err["loc"])
        dotted = ""
        for part in loc:
            dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else str(part))
        what = err["msg"]
        if err["type"] == "missing":
            message = f"'{dotted}' is required but missing"
        else:
            message = f"'{dotted}': {what} (found {err.get('input')!r})"
        problems.append(ContentProblem("error", path, find_key_line(text, loc, start_line), message))
    return problems
