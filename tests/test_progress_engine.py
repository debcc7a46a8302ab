"""XP, levels, streaks, every achievement rule type, and exercise pass tokens (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from questlab.content.loader import load_catalog
from questlab.content.model import Quest
from questlab.content.schema import RULE_TYPES
from questlab.progress.engine import RULES, evaluate, lesson_xp, streaks
from questlab.progress.facts import Fact, fact_set, local_day
from questlab.progress.standing import level_for_xp, standing
from questlab.progress.tokens import sign_exercise_pass, verify_exercise_pass
from questlab.settings import REPO_DIR
from tests.helpers import QUEST_TOML, valid_files, write_tree

DAY = "2026-03-02"


@pytest.fixture(scope="module")
def pytorch() -> Quest:
    return load_catalog(REPO_DIR / "quests").quests["pytorch"]


def build_quest(tmp_path: Path, achievements: str = "", xp: str = "") -> Quest:
    files = valid_files()
    toml = QUEST_TOML.split("[[achievements]]")[0]
    files["quest.toml"] = toml + xp + achievements
    write_tree(tmp_path / "quests" / "test", files)
    catalog = load_catalog(tmp_path / "quests")
    return catalog.quests["test"]


def test_every_rule_type_has_a_check():
    assert set(RULES) == set(RULE_TYPES)


def test_level_at_every_threshold_of_the_pytorch_curve(pytorch: Quest):
    levels = pytorch.config.levels
    assert levels[1].xp == 120
    for number, level in enumerate(levels):
        assert level_for_xp(pytorch, level.xp) == number
        if number:
            assert level_for_xp(pytorch, level.xp - 1) == number - 1
        strip = standing(pytorch, "en", level.xp)
        assert strip.level == number and strip.level_name == level.name["en"] and strip.xp_into_level == 0
        if number + 1 < len(levels):
            assert strip.xp_to_next == strip.xp_for_level == levels[number + 1].xp - level.xp
        else:
            assert strip.xp_to_next == strip.xp_for_level == 0
    assert level_for_xp(pytorch, 10**9) == len(levels) - 1
    assert standing(pytorch, "ko", 119).level_name == levels[0].name["ko"]


def test_xp_per_event_from_quest_toml(tmp_path: Path):
    quest = build_quest(
        tmp_path,
        xp="[xp]\nlesson = 7\nexercise = 40\nfirst_try_bonus = 10\ncode_run = 2\n"
        "code_run_daily_cap = 3\ncomment = 4\nday_active = 1\n\n",
    )
    assert lesson_xp(quest) == {"basics/first": 20, "basics/second": 20}  # front matter xp: 20 wins
    facts = fact_set(
        [
            Fact("lesson", "basics/first", DAY),
            Fact("exercise", "n1", DAY, lesson_key="basics/first", first_try=False),
            Fact(
                "exercise", "n2", DAY, lesson_key="basics/first", first_try=True
            ),  # same exercise: once, bonus once
            Fact("code_runs", "dev:" + DAY, DAY, count=5),  # capped at 3 a day
            Fact("code_runs", "dev2:" + DAY, DAY, count=1),
            Fact("comment", "9", DAY),
            Fact("day", DAY, DAY),
        ]
    )
    result = evaluate(quest, facts)
    assert result.xp == 20 + 40 + 10 + 2 * 3 + 4 + 1
    assert result.exercises_passed == ["basics/first"] and result.first_try_passes == ["basics/first"]
    assert result.code_runs == 6 and result.comments == 1
    assert result.xp_by_day == [(DAY, result.xp)]


def test_lesson_xp_default_when_front_matter_has_none(tmp_path: Path):
    files = valid_files()
    files["01-basics/02-second/lesson.ko.md"] = "---\ntitle: x\nminutes: 3\nstatus: published\n---\nbody\n"
    files["quest.toml"] = QUEST_TOML + "\n[xp]\nlesson = 33\n"
    write_tree(tmp_path / "q" / "test", files)
    quest = load_catalog(tmp_path / "q").quests["test"]
    assert lesson_xp(quest)["basics/second"] == 33


def test_facts_about_unknown_lessons_are_not_scored(tmp_path: Path):
    quest = build_quest(tmp_path)
    result = evaluate(quest, fact_set([Fact("lesson", "basics/nope", DAY)]))
    assert result.lessons_completed == [] and result.xp == 0


RULE_CASES = [
    # (rule, facts that unlock it, facts that fall one short)
    (
        '{ type = "lessons_completed", count = 2 }',
        [Fact("lesson", "basics/first", DAY), Fact("lesson", "basics/second", DAY)],
        [Fact("lesson", "basics/first", DAY)],
    ),
    (
        '{ type = "exercises_passed", count = 1 }',
        [Fact("exercise", "n", DAY, lesson_key="basics/first", first_try=False)],
        [],
    ),
    (
        '{ type = "first_try_passes", count = 1 }',
        [Fact("exercise", "n", DAY, lesson_key="basics/first", first_try=True)],
        [Fact("exercise", "n", DAY, lesson_key="basics/first", first_try=False)],
    ),
    (
        '{ type = "chapter_completed", chapter = "basics" }',
        [Fact("lesson", "basics/first", DAY), Fact("lesson", "basics/second", DAY)],
        [Fact("lesson", "basics/second", DAY)],
    ),
    (
        '{ type = "chapter_exercises", chapter = "basics" }',
        [Fact("exercise", "n", DAY, lesson_key="basics/first", first_try=False)],
        [Fact("lesson", "basics/first", DAY)],
    ),
    (
        '{ type = "streak_days", days = 3 }',
        [Fact("day", d, d) for d in ("2026-03-01", "2026-03-02", "2026-03-03")],
        [Fact("day", d, d) for d in ("2026-03-01", "2026-03-02", "2026-03-04")],
    ),
    (
        '{ type = "code_runs", count = 3 }',
        [Fact("code_runs", "a:" + DAY, DAY, count=2), Fact("code_runs", "b:" + DAY, DAY, count=1)],
        [Fact("code_runs", "a:" + DAY, DAY, count=2)],
    ),
    (
        '{ type = "comments_posted", count = 2 }',
        [Fact("comment", "1", DAY), Fact("comment", "2", DAY)],
        [Fact("comment", "1", DAY)],
    ),
    (
        '{ type = "level_reached", level = 1 }',
        [
            Fact("lesson", "basics/first", DAY),
            Fact("lesson", "basics/second", DAY),
            Fact("exercise", "n", DAY, lesson_key="basics/first", first_try=True),
            Fact("day", DAY, DAY),
        ],  # 120
        [
            Fact("lesson", "basics/first", DAY),
            Fact("lesson", "basics/second", DAY),
            Fact("exercise", "n", DAY, lesson_key="basics/first", first_try=False),
            Fact("day", DAY, DAY),
        ],
    ),  # 95
    (
        '{ type = "xp_total", xp = 25 }',
        [Fact("lesson", "basics/first", "2026-03-01"), Fact("day", "2026-03-01", "2026-03-01")],
        [Fact("comment", "1", DAY)],
    ),  # 5 + 5 = 10
]


@pytest.mark.parametrize(
    ("rule", "unlock", "short"), RULE_CASES, ids=[c[0].split('"')[1] for c in RULE_CASES]
)
def test_each_rule_type(tmp_path: Path, rule: str, unlock: list[Fact], short: list[Fact]):
    quest = build_quest(
        tmp_path,
        achievements=f'[[achievements]]\nid = "a"\ntitle = {{ ko = "가" }}\n'
        f'description = {{ ko = "나" }}\nrule = {rule}\n',
    )
    assert evaluate(quest, fact_set(unlock)).unlocked() == ["a"]
    result = evaluate(quest, fact_set(short))
    assert result.unlocked() == []
    state = result.achievements[0]
    assert state.have < state.need


def test_rule_types_are_covered_by_the_cases():
    assert {case[0].split('"')[1] for case in RULE_CASES} == set(RULE_TYPES)


def test_pytorch_quest_declares_thirteen_achievements_of_every_required_kind(pytorch: Quest):
    kinds = {a.rule.type for a in pytorch.config.achievements}
    assert len(pytorch.config.achievements) == 13
    assert {
        "lessons_completed",
        "exercises_passed",
        "first_try_passes",
        "chapter_completed",
        "chapter_exercises",
        "streak_days",
        "code_runs",
        "comments_posted",
    } <= kinds
    streak_days = sorted(
        a.rule.param("days") for a in pytorch.config.achievements if a.rule.type == "streak_days"
    )
    assert streak_days == [3, 7]


def test_streaks_current_and_longest():
    assert streaks(set()) == (0, 0)
    days = {"2026-01-01", "2026-01-02", "2026-01-03", "2026-01-10", "2026-01-11"}
    assert streaks(days, "2026-01-11") == (2, 3)
    assert streaks(days, "2026-01-12") == (2, 3)  # today not studied yet: the streak holds until midnight
    assert streaks(days, "2026-01-13") == (0, 3)
    assert streaks({"2026-02-28", "2026-03-01"}, "2026-03-01") == (2, 2)  # across a month end
    assert streaks({"2024-02-28", "2024-03-01"}, "2024-03-01") == (1, 1)  # 2024 has a 29 February


def test_local_day_across_midnight_and_time_zones():
    moment = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)  # 00:30 on 2 March in Seoul
    assert local_day(moment, "UTC") == "2026-03-01"
    assert local_day(moment, "Asia/Seoul") == "2026-03-02"
    assert local_day(moment, "America/Los_Angeles") == "2026-03-01"
    assert local_day(moment - timedelta(minutes=31), "Asia/Seoul") == "2026-03-01"
    assert local_day(moment, "Not/AZone") == "2026-03-01"
    assert local_day(datetime(2026, 3, 1, 23, 59), None) == "2026-03-01"


def test_a_streak_made_in_seoul_late_at_night():
    # 1 March 23:50, 2 March 00:10 and 3 March 08:00 in Seoul: 3 calendar days there, 2 in UTC.
    moments = [
        datetime(2026, 3, 1, 14, 50, tzinfo=UTC),
        datetime(2026, 3, 1, 15, 10, tzinfo=UTC),
        datetime(2026, 3, 2, 23, 0, tzinfo=UTC),
    ]
    seoul = {local_day(m, "Asia/Seoul") for m in moments}
    utc = {local_day(m, "UTC") for m in moments}
    assert streaks(seoul)[1] == 3
    assert streaks(utc)[1] == 2


def test_tokens_roundtrip_and_reject_forgeries():
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    token = sign_exercise_pass("key", "pytorch", "networks/nn-module", True, at)
    proof = verify_exercise_pass("key", token)
    assert proof is not None and proof.quest == "pytorch" and proof.lesson_key == "networks/nn-module"
    assert proof.first_try is True and proof.passed_at == at and len(proof.nonce) >= 16
    other = sign_exercise_pass("key", "pytorch", "networks/nn-module", True, at)
    assert verify_exercise_pass("key", other).nonce != proof.nonce  # type: ignore[union-attr]
    assert verify_exercise_pass("other key", token) is None
    payload, signature = token.split(".")
    import base64
    import json

    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["f"] = True
    body["l"] = "networks/other"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    assert verify_exercise_pass("key", f"{forged}.{signature}") is None
    for junk in ["", "abc", "a.b.c", f"{payload}.", f".{signature}", token + "x", 5, None]:
        assert verify_exercise_pass("key", junk) is None  # type: ignore[arg-type]
