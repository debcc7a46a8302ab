"""Typed schemas of the content files: ``quest.toml``, ``chapter.toml`` and lesson front matter.

Unknown keys are allowed by pydantic here and reported as warnings by
:func:`unknown_keys`, so that a typo never hides silently and never takes a
lesson down. The file format is documented in ``docs/authors.md``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

LOCALES = ("ko", "en")
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class Schema(BaseModel):
    """Base class: unknown keys are kept (``model_extra``) so they can be warned about."""

    model_config = ConfigDict(extra="allow", frozen=True)


LocalizedText = Annotated[dict[str, str], Field(description="Text per locale, e.g. {ko = '...', en = '...'}")]


def _check_localized(value: dict[str, str]) -> dict[str, str]:
    if "ko" not in value:
        raise ValueError("needs at least a Korean ('ko') text")
    unknown = set(value) - set(LOCALES)
    if unknown:
        raise ValueError(f"unknown locale(s) {sorted(unknown)}; expected some of {list(LOCALES)}")
    return value


class XPConfig(Schema):
    """XP awarded per event (quest.toml ``[xp]``)."""

    lesson: int = Field(
        20, ge=0, description="XP for completing a lesson unless its front matter says otherwise."
    )
    exercise: int = Field(50, ge=0, description="XP for passing an exercise.")
    first_try_bonus: int = Field(25, ge=0, description="Extra XP when the first submission passes.")
    code_run: int = Field(1, ge=0, description="XP per code run, up to code_run_daily_cap a day.")
    code_run_daily_cap: int = Field(20, ge=0, description="Most runs a day that earn XP.")
    comment: int = Field(5, ge=0, description="XP per comment posted.")
    day_active: int = Field(5, ge=0, description="XP for the first event of a calendar day.")


class Level(Schema):
    """One level of the curve: reached at ``xp`` total XP."""

    xp: int = Field(ge=0)
    name: LocalizedText

    _v = field_validator("name")(_check_localized)


RULE_TYPES: dict[str, dict[str, type]] = {
    "lessons_completed": {"count": int},
    "exercises_passed": {"count": int},
    "first_try_passes": {"count": int},
    "chapter_completed": {"chapter": str},
    "chapter_exercises": {"chapter": str},
    "streak_days": {"days": int},
    "code_runs": {"count": int},
    "comments_posted": {"count": int},
    "level_reached": {"level": int},
    "xp_total": {"xp": int},
}
"""Achievement rule types and their parameters; the progress engine evaluates them."""


class Rule(BaseModel):
    """An achievement rule: ``{type = "lessons_completed", count = 5}``."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str

    @model_validator(mode="after")
    def _check_params(self) -> Rule:
        params = RULE_TYPES.get(self.type)
        if params is None:
            raise ValueError(f"unknown rule type '{self.type}'; expected one of {sorted(RULE_TYPES)}")
        extra = dict(self.model_extra or {})
        for name, kind in params.items():
            if name not in extra:
                raise ValueError(f"rule '{self.type}' needs '{name}'")
            if not isinstance(extra[name], kind) or (kind is int and extra[name] < 1):
                raise ValueError(f"rule '{self.type}': '{name}' must be a positive {kind.__name__}")
        surplus = set(extra) - set(params)
        if surplus:
            raise ValueError(f"rule '{self.type}' takes only {sorted(params)}, not {sorted(surplus)}")
        return self

    def param(self, name: str) -> Any:
        """Return the rule parameter ``name`` (e.g. ``count``)."""
        return (self.model_extra or {})[name]


class Achievement(Schema):
    """An achievement declared in quest.toml ``[[achievements]]``."""

    id: str = Field(pattern=SLUG)
    icon: str = "🏅"
    title: LocalizedText
    description: LocalizedText
    rule: Rule

    _v = field_validator("title", "description")(_check_localized)


class QuestConfig(Schema):
    """The contents of ``quests/<quest>/quest.toml``."""

    title: LocalizedText
    description: LocalizedText
    locales: list[Literal["ko", "en"]] = Field(default_factory=lambda: ["ko", "en"])
    chapters: list[Annotated[str, Field(pattern=SLUG)]] = Field(min_length=1)
    xp: XPConfig = Field(default_factory=XPConfig)
    levels: list[Level] = Field(min_length=2)
    achievements: list[Achievement] = Field(default_factory=list)

    _v = field_validator("title", "description")(_check_localized)

    @model_validator(mode="after")
    def _check(self) -> QuestConfig:
        if self.levels[0].xp != 0:
            raise ValueError("levels[0].xp must be 0 (every learner starts at level 0)")
        for lower, higher in zip(self.levels, self.levels[1:], strict=False):
            if higher.xp <= lower.xp:
                raise ValueError(f"level thresholds must increase: {lower.xp} then {higher.xp}")
        ids = [a.id for a in self.achievements]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"achievement ids must be unique; repeated: {sorted(duplicates)}")
        if len(set(self.chapters)) != len(self.chapters):
            raise ValueError("chapters lists a chapter twice")
        return self


class ChapterConfig(Schema):
    """The contents of ``<NN-chapter>/chapter.toml``."""

    title: LocalizedText
    description: LocalizedText = Field(default_factory=lambda: {"ko": ""})

    _v = field_validator("title", "description")(_check_localized)


class Link(Schema):
    """An external link listed under a lesson."""

    title: str = Field(min_length=1)
    url: HttpUrl


class FrontMatter(Schema):
    """The YAML front matter of ``lesson.<locale>.md``."""

    title: str = Field(min_length=1)
    minutes: int = Field(ge=1, le=600, description="Reading time in minutes.")
    tags: list[str] = Field(default_factory=list)
    status: Literal["draft", "published"] = "draft"
    xp: int | None = Field(default=None, ge=0, description="XP for completing; default from quest.toml.")
    links: list[Link] = Field(default_factory=list)
    requires: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
        description="A capability the lesson's runs need from the runner (e.g. cuda); none: any runner.",
    )


def unknown_keys(model: BaseModel, prefix: str = "") -> list[str]:
    """Return the dotted names of keys that ``model`` (recursively) did not declare.

    ``Rule`` parameters are not unknown keys: they are checked by the rule itself.
    """
    found: list[str] = []
    if isinstance(model, Schema):
        found += [f"{prefix}{key}" for key in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if isinstance(item, Schema):
                where = f"{prefix}{name}[{index}]." if isinstance(value, list) else f"{prefix}{name}."
                found += unknown_keys(item, where)
    return found


def strip_number(dirname: str) -> tuple[int, str] | None:
    """Split ``"01-nn-module"`` into ``(1, "nn-module")``; ``None`` if not ``NN-slug``."""
    match = re.fullmatch(r"(\d{2,3})-([a-z0-9]+(?:-[a-z0-9]+)*)", dirname)
    return (int(match.group(1)), match.group(2)) if match else None
