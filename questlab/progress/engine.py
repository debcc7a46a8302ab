"""From facts to standing: XP per event, levels, streaks and the achievements rules engine.

Everything here is a pure function of a quest and a fact set, so the browser's local progress,
the server's and their merge are scored the same way. XP per event comes from ``quest.toml``
``[xp]``; a lesson's front matter ``xp`` overrides the lesson XP.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from questlab.content.model import Quest
from questlab.content.schema import RULE_TYPES, Achievement, Rule
from questlab.progress.facts import FactSet, parse_day
from questlab.progress.standing import Standing, level_for_xp, standing


@dataclass(frozen=True)
class Context:
    """What achievement rules look at."""

    quest: Quest
    lessons: frozenset[str]
    exercises: frozenset[str]
    first_tries: frozenset[str]
    code_runs: int
    comments: int
    longest_streak: int
    level: int
    xp: int


RuleCheck = Callable[[Rule, Context], tuple[int, int]]
RULES: dict[str, RuleCheck] = {}
"""Rule type → function returning ``(have, need)``; the achievement is unlocked when ``have >= need``."""


def rule(name: str) -> Callable[[RuleCheck], RuleCheck]:
    """Register the check for rule type ``name`` (one of ``schema.RULE_TYPES``)."""
    if name not in RULE_TYPES:
        raise ValueError(f"'{name}' is not declared in questlab.content.schema.RULE_TYPES")

    def register(function: RuleCheck) -> RuleCheck:
        RULES[name] = function
        return function

    return register


def _chapter_lessons(quest: Quest, chapter: str, exercises_only: bool = False) -> set[str]:
    return {
        lesson.key
        for ch in quest.chapters
        if ch.slug == chapter
        for lesson in ch.lessons
        if not exercises_only or lesson.exercise is not None
    }


@rule("lessons_completed")
def _lessons_completed(r: Rule, c: Context) -> tuple[int, int]:
    return len(c.lessons), r.param("count")


@rule("exercises_passed")
def _exercises_passed(r: Rule, c: Context) -> tuple[int, int]:
    return len(c.exercises), r.param("count")


@rule("first_try_passes")
def _first_try_passes(r: Rule, c: Context) -> tuple[int, int]:
    return len(c.first_tries), r.param("count")


@rule("chapter_completed")
def _chapter_completed(r: Rule, c: Context) -> tuple[int, int]:
    wanted = _chapter_lessons(c.quest, r.param("chapter"))
    return len(wanted & c.lessons), max(len(wanted), 1)  # an empty chapter cannot be completed


@rule("chapter_exercises")
def _chapter_exercises(r: Rule, c: Context) -> tuple[int, int]:
    wanted = _chapter_lessons(c.quest, r.param("chapter"), exercises_only=True)
    return len(wanted & c.exercises), max(len(wanted), 1)


@rule("streak_days")
def _streak_days(r: Rule, c: Context) -> tuple[int, int]:
    return c.longest_streak, r.param("days")


@rule("code_runs")
def _code_runs(r: Rule, c: Context) -> tuple[int, int]:
    return c.code_runs, r.param("count")


@rule("comments_posted")
def _comments_posted(r: Rule, c: Context) -> tuple[int, int]:
    return c.comments, r.param("count")


@rule("level_reached")
def _level_reached(r: Rule, c: Context) -> tuple[int, int]:
    return c.level, r.param("level")


@rule("xp_total")
def _xp_total(r: Rule, c: Context) -> tuple[int, int]:
    return c.xp, r.param("xp")


@dataclass(frozen=True)
class AchievementState:
    """An achievement with the learner's progress towards it."""

    achievement: Achievement
    have: int
    need: int

    @property
    def unlocked(self) -> bool:
        return self.have >= self.need


def streaks(days: set[str], today: str | None = None) -> tuple[int, int]:
    """``(current, longest)`` runs of consecutive active days.

    The current streak ends today or yesterday (a learner who has not studied yet today keeps it
    until the day is over); ``today`` is the learner's local day, ``None`` for "the last active day".
    """
    dates = sorted({d for d in (parse_day(text) for text in days) if d is not None})
    if not dates:
        return 0, 0
    longest = run = 1
    for before, after in zip(dates, dates[1:], strict=False):
        run = run + 1 if after - before == timedelta(days=1) else 1
        longest = max(longest, run)
    current = 0
    end = parse_day(today) if today else dates[-1]
    if end is not None and dates[-1] >= end - timedelta(days=1):
        current = 1
        chain: date = dates[-1]
        present = set(dates)
        while chain - timedelta(days=1) in present:
            chain -= timedelta(days=1)
            current += 1
    return current, longest


def lesson_xp(quest: Quest) -> dict[str, int]:
    """XP for completing each served lesson: front matter ``xp``, else quest.toml ``[xp] lesson``."""
    default = quest.config.xp.lesson
    return {
        lesson.key: (lesson.texts["ko"].meta.xp if lesson.texts["ko"].meta.xp is not None else default)
        for lesson in quest.lessons()
    }


@dataclass
class QuestProgress:
    """A learner's computed state in one quest (see :func:`evaluate`)."""

    quest: Quest
    xp: int
    level: int
    lessons_completed: list[str]
    exercises_passed: list[str]
    first_try_passes: list[str]
    code_runs: int
    comments: int
    active_days: list[str]
    current_streak: int
    longest_streak: int
    achievements: list[AchievementState]
    xp_by_day: list[tuple[str, int]] = field(default_factory=list)

    def unlocked(self) -> list[str]:
        """Ids of unlocked achievements, in quest.toml order."""
        return [state.achievement.id for state in self.achievements if state.unlocked]

    def standing(self, locale: str) -> Standing:
        """The status strip numbers."""
        return standing(self.quest, locale, self.xp, len(self.lessons_completed), len(self.unlocked()))

    def as_json(self, locale: str) -> dict[str, Any]:
        """The per-quest object of ``GET /api/me/progress`` (documented in docs/api.md)."""
        strip = self.standing(locale)
        total = 0
        timeline = []
        for day, xp in self.xp_by_day:
            total += xp
            timeline.append({"day": day, "xp": xp, "total": total})

        def text(value: dict[str, str]) -> str:
            return value.get(locale) or value["ko"]

        return {
            "xp": self.xp,
            "level": self.level,
            "level_name": strip.level_name,
            "lessons_completed": self.lessons_completed,
            "lessons_total": strip.lessons_total,
            "exercises_passed": self.exercises_passed,
            "first_try_passes": self.first_try_passes,
            "code_runs": self.code_runs,
            "comments": self.comments,
            "active_days": self.active_days,
            "streak": {"current": self.current_streak, "longest": self.longest_streak},
            "achievements": self.unlocked(),
            "achievements_total": strip.achievements_total,
            "achievement_details": [
                {
                    "id": s.achievement.id,
                    "icon": s.achievement.icon,
                    "title": text(s.achievement.title),
                    "description": text(s.achievement.description),
                    "unlocked": s.unlocked,
                    "have": min(s.have, s.need),
                    "need": s.need,
                }
                for s in self.achievements
            ],
            "xp_by_day": timeline,
            "strip": {
                "level": strip.level,
                "level_name": strip.level_name,
                "xp": strip.xp,
                "xp_into_level": strip.xp_into_level,
                "xp_for_level": strip.xp_for_level,
                "xp_to_next": strip.xp_to_next,
                "lessons_done": strip.lessons_done,
                "lessons_total": strip.lessons_total,
                "achievements_done": strip.achievements_done,
                "achievements_total": strip.achievements_total,
                "percent": strip.percent,
            },
        }


def evaluate(quest: Quest, facts: FactSet, today: str | None = None) -> QuestProgress:
    """Score a fact set on ``quest``: XP, level, streaks and every achievement.

    XP: each completed lesson its lesson XP; each lesson whose exercise passed ``exercise`` XP once,
    plus ``first_try_bonus`` when any of its passes was a first try; each day's code runs
    ``code_run`` XP each up to ``code_run_daily_cap`` runs; each comment ``comment`` XP; each active day
    ``day_active`` XP. Active days are the ``day`` facts only (every recorded event adds one), so that
    merging never moves a day out of the set. Facts about lessons the quest does not serve are kept
    but not scored.

    Args:
        quest: the quest.
        facts: the learner's facts in this quest.
        today: the learner's local day, for the current streak.
    """
    config = quest.config.xp
    per_lesson = lesson_xp(quest)
    with_exercise = {lesson.key for lesson in quest.lessons() if lesson.exercise is not None}
    daily: dict[str, int] = defaultdict(int)
    lessons: dict[str, str] = {}
    passes: dict[str, tuple[str, bool]] = {}
    runs_per_day: dict[str, int] = defaultdict(int)
    comments = 0
    days: set[str] = set()
    for fact in facts.values():
        if fact.kind == "day":
            days.add(fact.key)
        elif fact.kind == "lesson" and fact.key in per_lesson:
            lessons[fact.key] = min(fact.day, lessons.get(fact.key, fact.day))
        elif fact.kind == "exercise" and fact.lesson_key in with_exercise:
            assert fact.lesson_key is not None
            day, first = passes.get(fact.lesson_key, (fact.day, False))
            passes[fact.lesson_key] = (min(day, fact.day), first or bool(fact.first_try))
        elif fact.kind == "code_runs":
            runs_per_day[fact.day] += max(fact.count, 0)
        elif fact.kind == "comment":
            comments += 1
            daily[fact.day] += config.comment
    for key, day in lessons.items():
        daily[day] += per_lesson[key]
    for day, first in passes.values():
        daily[day] += config.exercise + (config.first_try_bonus if first else 0)
    for day, runs in runs_per_day.items():
        daily[day] += config.code_run * min(runs, config.code_run_daily_cap)
    for day in days:
        daily[day] += config.day_active
    xp = sum(daily.values())
    level = level_for_xp(quest, xp)
    current, longest = streaks(days, today)
    context = Context(
        quest=quest,
        lessons=frozenset(lessons),
        exercises=frozenset(passes),
        first_tries=frozenset(k for k, (_d, first) in passes.items() if first),
        code_runs=sum(runs_per_day.values()),
        comments=comments,
        longest_streak=longest,
        level=level,
        xp=xp,
    )
    states = []
    for achievement in quest.config.achievements:
        have, need = RULES[achievement.rule.type](achievement.rule, context)
        states.append(AchievementState(achievement, have, need))
    order = {lesson.key: index for index, lesson in enumerate(quest.lessons())}
    return QuestProgress(
        quest=quest,
        xp=xp,
        level=level,
        lessons_completed=sorted(lessons, key=order.__getitem__),
        exercises_passed=sorted(passes, key=order.__getitem__),
        first_try_passes=sorted(context.first_tries, key=order.__getitem__),
        code_runs=context.code_runs,
        comments=comments,
        active_days=sorted(days),
        current_streak=current,
        longest_streak=longest,
        achievements=states,
        xp_by_day=sorted(daily.items()),
    )
