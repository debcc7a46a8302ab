"""A learner's standing in a quest: level from XP through the quest's curve, and the status strip numbers."""

from __future__ import annotations

from dataclasses import dataclass

from questlab.content.model import Quest


@dataclass(frozen=True)
class Standing:
    """The numbers of the status strip.

    Attributes:
        level: current level number (0-based).
        level_name: the level's name in the requested locale.
        xp: total XP in this quest.
        xp_into_level: XP earned since the current level's threshold.
        xp_for_level: XP between the current level's threshold and the next one
            (0 at the top level).
        xp_to_next: XP still missing for the next level (0 at the top level).
        lessons_done, lessons_total: completed and served lessons.
        achievements_done, achievements_total: unlocked and declared achievements.
        percent: lessons done as a whole percentage of the total (0–100).
    """

    level: int
    level_name: str
    xp: int
    xp_into_level: int
    xp_for_level: int
    xp_to_next: int
    lessons_done: int
    lessons_total: int
    achievements_done: int
    achievements_total: int
    percent: int


def level_for_xp(quest: Quest, xp: int) -> int:
    """Return the level reached with ``xp`` total XP on ``quest``'s curve (``quest.toml`` ``[[levels]]``)."""
    level = 0
    for index, threshold in enumerate(quest.config.levels):
        if xp >= threshold.xp:
            level = index
    return level


def standing(
    quest: Quest, locale: str, xp: int = 0, lessons_done: int = 0, achievements_done: int = 0
) -> Standing:
    """Compute the status strip for a learner.

    Args:
        quest: the quest (its curve, lesson count and achievement count are used).
        locale: ``"ko"`` or ``"en"`` for the level name.
        xp: total XP (≥ 0).
        lessons_done: lessons completed (≥ 0).
        achievements_done: achievements unlocked (≥ 0).
    """
    levels = quest.config.levels
    level = level_for_xp(quest, xp)
    floor = levels[level].xp
    ceiling = levels[level + 1].xp if level + 1 < len(levels) else None
    total = len(quest.lessons())
    name = levels[level].name
    return Standing(
        level=level,
        level_name=name.get(locale) or name["ko"],
        xp=xp,
        xp_into_level=xp - floor,
        xp_for_level=(ceiling - floor) if ceiling is not None else 0,
        xp_to_next=(ceiling - xp) if ceiling is not None else 0,
        lessons_done=lessons_done,
        lessons_total=total,
        achievements_done=achievements_done,
        achievements_total=len(quest.config.achievements),
        percent=(100 * lessons_done // total) if total else 0,
    )
