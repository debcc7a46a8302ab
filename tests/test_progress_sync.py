"""Local-first progress: the merge laws (hypothesis), forged and replayed tokens, the JSON API, recording
events for signed-in learners, and the pages that show progress — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete

from questlab.accounts import service
from questlab.content.loader import load_catalog
from questlab.db import Database
from questlab.db.models import ExerciseNonce, User
from questlab.progress import store
from questlab.progress.engine import evaluate
from questlab.progress.facts import Fact, merge
from questlab.progress.tokens import sign_exercise_pass
from tests.helpers import csrf_headers, sign_up

SECRET = "test-secret"  # the `settings` fixture's secret_key
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAYS = [f"2026-03-0{d}" for d in range(1, 10)]
LESSONS = ["basics/first", "basics/second"]

# --- the pure merge ---------------------------------------------------------------------------------------

facts_strategy = st.dictionaries(
    keys=st.tuples(
        st.sampled_from(["lesson", "exercise", "code_runs", "comment", "day"]),
        st.sampled_from(["a", "b", "c", "basics/first"]),
    ),
    values=st.tuples(st.sampled_from(DAYS), st.sampled_from(LESSONS), st.booleans(), st.integers(0, 40)),
    max_size=12,
).map(lambda raw: dict(_fact(kind, key, *value) for (kind, key), value in raw.items()))


def _fact(
    kind: str, key: str, day: str, lesson: str, first: bool, count: int
) -> tuple[tuple[str, str], Fact]:
    # As the store makes them: a code run counter is per device and day, so its key holds the day.
    if kind == "code_runs":
        key = f"{key}:{day}"
    elif kind == "day":
        key = day
    fact = Fact(
        kind,
        key,
        day,
        lesson_key=lesson if kind == "exercise" else None,
        first_try=first if kind == "exercise" else None,
        count=count if kind == "code_runs" else 1,
    )
    return (kind, key), fact


@given(facts_strategy)
def test_merge_is_idempotent(a):
    assert merge(a, a) == merge(a) == a


@given(facts_strategy, facts_strategy)
def test_merge_is_order_free(a, b):
    assert merge(a, b) == merge(b, a)


@given(facts_strategy, facts_strategy, facts_strategy)
def test_merge_is_associative(a, b, c):
    assert merge(merge(a, b), c) == merge(a, merge(b, c))


@pytest.fixture(scope="module")
def quest(tmp_path_factory):
    from tests.helpers import valid_files, write_tree

    root = tmp_path_factory.mktemp("quests")
    write_tree(root / "test", valid_files())
    return load_catalog(root).quests["test"]


@given(a=facts_strategy, b=facts_strategy)
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_merge_loses_nothing(quest, a, b):
    merged = merge(a, b)
    assert set(merged) == set(a) | set(b)
    for identity, fact in merged.items():
        for side in (a, b):
            if identity in side:
                assert fact.count >= side[identity].count and fact.day <= side[identity].day
    scored, left, right = evaluate(quest, merged), evaluate(quest, a), evaluate(quest, b)
    assert scored.xp >= max(left.xp, right.xp)
    assert set(scored.lessons_completed) == set(left.lessons_completed) | set(right.lessons_completed)
    assert set(scored.unlocked()) >= set(left.unlocked()) | set(right.unlocked())


# --- the merge in the database ----------------------------------------------------------------------------

TOKENS = [sign_exercise_pass(SECRET, "test", "basics/first", first, NOW) for first in (False, True, False)]

payload_strategy = st.builds(
    lambda lessons, days, tokens, runs, active: store.SyncPayload.model_validate(
        {
            "device": "dev1",
            "tz": "Asia/Seoul",
            "quests": {
                "test": {
                    "lessons_completed": lessons,
                    "lesson_days": days,
                    "exercise_tokens": tokens,
                    "code_runs": runs,
                    "active_days": active,
                }
            },
        }
    ),
    st.lists(st.sampled_from(LESSONS), unique=True),
    st.dictionaries(st.sampled_from(LESSONS), st.sampled_from(DAYS)),
    st.lists(st.sampled_from(TOKENS), unique=True),
    st.dictionaries(st.sampled_from(DAYS), st.integers(0, 30)),
    st.lists(st.sampled_from(DAYS), unique=True),
)


def stored(db: Database, user_id: int) -> dict:
    with db.session() as session:
        return store.load_facts(session, user_id, "test")


def new_user(db: Database, email: str) -> User:
    with db.session() as session:
        return service.create_user(session, email, "longenough")


def sync(db: Database, user_id: int, payload, quests) -> dict:
    with db.session() as session:
        user = session.get(User, user_id)
        return store.merge_payload(session, user, payload, quests, SECRET, now=NOW)


@pytest.fixture
def db(sqlite_url: str):
    database = Database(sqlite_url)
    yield database
    database.dispose()


@given(a=payload_strategy, b=payload_strategy)
@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_database_merge_laws(db, quest, a, b):
    quests = {"test": quest}
    with db.session() as session:
        session.query(User).delete()
    one, two, three = (
        new_user(db, "one@example.com"),
        new_user(db, "two@example.com"),
        new_user(db, "3@example.com"),
    )
    # The same tokens in several accounts would be replays: give each account its own copy of the test.
    for user in (one, two, three):
        with db.session() as session:
            session.execute(delete(ExerciseNonce))
        if user is one:
            sync(db, one.id, a, quests), sync(db, one.id, b, quests)
            ab = stored(db, one.id)
        elif user is two:
            sync(db, two.id, b, quests), sync(db, two.id, a, quests), sync(db, two.id, a, quests)
            ba = stored(db, two.id)
        else:
            sync(db, three.id, a, quests)
            only_a = stored(db, three.id)
            sync(db, three.id, a, quests)
            assert stored(db, three.id) == only_a  # merging twice changes nothing
    assert ab == ba  # order does not matter, and repeating changes nothing
    assert set(only_a) <= set(ab)  # nothing lost


def test_forged_and_replayed_tokens_are_rejected(database_url: str, quest):
    db = Database(database_url)
    quests = {"test": quest}
    try:
        alice, bob = new_user(db, "alice@example.com"), new_user(db, "bob@example.com")
        good = sign_exercise_pass(SECRET, "test", "basics/first", True, NOW)
        forged = sign_exercise_pass("not the server's key", "test", "basics/first", True, NOW)
        wrong_lesson = sign_exercise_pass(SECRET, "test", "basics/second", True, NOW)  # it has no exercise
        wrong_quest = sign_exercise_pass(SECRET, "pytorch", "basics/first", True, NOW)
        payload = store.SyncPayload.model_validate(
            {
                "quests": {
                    "test": {
                        "exercise_tokens": [good, forged, wrong_lesson, wrong_quest, "junk"],
                        "lessons_completed": ["basics/first", "basics/nope"],
                    },
                    "nope": {},
                }
            }
        )
        rejected = sync(db, alice.id, payload, quests)
        assert rejected["test"]["exercise_tokens"] == [forged, wrong_lesson, wrong_quest, "junk"]
        assert rejected["test"]["lessons_completed"] == ["basics/nope"] and rejected["nope"] == {
            "quest": ["nope"]
        }
        with db.session() as session:
            xp = store.progress(session, session.get(User, alice.id), quest).xp
        assert xp == 20 + 50 + 25 + 5
        assert (
            sync(db, alice.id, payload, quests)["test"].get("exercise_tokens_replayed") is None
        )  # her own again
        replay = store.SyncPayload.model_validate({"quests": {"test": {"exercise_tokens": [good]}}})
        assert sync(db, bob.id, replay, quests)["test"]["exercise_tokens_replayed"] == [good]
        with db.session() as session:
            assert store.progress(session, session.get(User, bob.id), quest).exercises_passed == []
    finally:
        db.dispose()


def test_record_events_for_signed_in_learners(database_url: str, quest):
    db = Database(database_url)
    try:
        user = new_user(db, "rec@example.com")
        with db.session() as session:
            assert store.record_exercise_pass(session, user.id, quest, "basics/first", False) == 50 + 5
            assert (
                store.record_exercise_pass(session, user.id, quest, "basics/first", True) == 25
            )  # the bonus only
            assert store.record_exercise_pass(session, user.id, quest, "basics/first", True) == 0
            assert store.record_lesson_completed(session, user.id, quest, "basics/first") == 20
            assert store.record_lesson_completed(session, user.id, quest, "basics/first") == 0
            assert store.record_code_run(session, user.id, quest) == 1
            assert store.record_comment(session, user.id, quest, 7) == 5
        with db.session() as session:
            for _ in range(25):
                store.record_code_run(session, user.id, quest)
            scored = store.progress(session, session.get(User, user.id), quest)
        assert scored.code_runs == 26 and scored.xp == 50 + 5 + 25 + 20 + 20 + 5  # runs capped at 20 a day
        assert scored.unlocked() == ["first-lesson"]
    finally:
        db.dispose()


def test_a_pass_completes_the_lesson(database_url: str, quest):
    """A signed-in learner's pass is stored with the lesson's completion; a visitor's award says to keep
    it (their browser records it), and a fail completes nothing."""
    from questlab.progress.exercises import award_submission

    db = Database(database_url)
    try:
        user = new_user(db, "pass@example.com")
        with db.session() as session:
            fail = award_submission(session, user.id, quest, "basics/first", False, {}, SECRET)
            assert fail.xp == 0 and not fail.lesson_completed
            assert store.progress(session, session.get(User, user.id), quest).lessons_completed == []
            award = award_submission(session, user.id, quest, "basics/first", True, {}, SECRET)
        assert award.lesson_completed and award.xp == 50 + 20 + 5  # exercise, lesson, first active day
        with db.session() as session:
            scored = store.progress(session, session.get(User, user.id), quest)
        assert scored.lessons_completed == ["basics/first"] and scored.exercises_passed == ["basics/first"]
        assert scored.xp == award.xp and scored.unlocked() == ["first-lesson"]
        visitor = award_submission(None, None, quest, "basics/first", True, {}, SECRET)
        assert visitor.lesson_completed and visitor.completion_token and visitor.xp == 50 + 25
    finally:
        db.dispose()


# --- the HTTP API -----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_evaluate_scores_local_progress_without_an_account(client: httpx.AsyncClient):
    token = sign_exercise_pass(SECRET, "test", "basics/first", True, datetime.now(UTC))
    body = {
        "device": "d1",
        "tz": "Asia/Seoul",
        "quests": {"test": {"lessons_completed": ["basics/first"], "exercise_tokens": [token], "xp": 99999}},
    }
    response = await client.post("/api/progress/evaluate", json=body, headers=await csrf_headers(client))
    assert response.status_code == 200
    test = response.json()["quests"]["test"]
    assert test["xp"] == 20 + 50 + 25 + 5 and test["level"] == 0 and test["level_name"] == "입문자"
    assert test["lessons_completed"] == ["basics/first"] and test["achievements"] == ["first-lesson"]
    assert test["strip"]["lessons_done"] == 1 and test["strip"]["xp_to_next"] == 120 - 100


@pytest.mark.anyio
async def test_sync_then_me_progress_shape(client: httpx.AsyncClient):
    await sign_up(client)
    headers = await csrf_headers(client)
    token = sign_exercise_pass(SECRET, "test", "basics/first", False, datetime.now(UTC))
    body = {
        "device": "d1",
        "tz": "Europe/Berlin",
        "quests": {
            "test": {
                "lessons_completed": ["basics/first", "basics/second"],
                "lesson_days": {"basics/first": "2026-03-01"},
                "exercise_tokens": [token, "forged.token"],
                "code_runs": {"2026-03-01": 3},
                "active_days": ["2026-03-01"],
            }
        },
    }
    response = await client.post("/api/progress/sync?lang=en", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["rejected"] == {"test": {"exercise_tokens": ["forged.token"]}}
    again = (await client.post("/api/progress/sync?lang=en", json=body, headers=headers)).json()
    mine = (await client.get("/api/me/progress?lang=en")).json()
    assert again["quests"] == answer["quests"] == mine["quests"]
    test = mine["quests"]["test"]
    assert set(test) >= {
        "xp",
        "level",
        "level_name",
        "lessons_completed",
        "achievements",
        "lessons_total",
        "exercises_passed",
        "first_try_passes",
        "code_runs",
        "active_days",
        "streak",
        "achievements_total",
        "achievement_details",
        "xp_by_day",
        "strip",
    }
    today_active = 5 if test["active_days"][-1] != "2026-03-01" else 0
    assert test["xp"] == 20 + 20 + 50 + 3 + 5 + today_active
    assert test["level_name"] == "Beginner" and test["lessons_completed"] == ["basics/first", "basics/second"]
    assert test["xp_by_day"][0] == {"day": "2026-03-01", "xp": 20 + 3 + 5, "total": 28}
    assert test["xp_by_day"][-1]["total"] == test["xp"]
    assert test["achievement_details"][0] == {
        "id": "first-lesson",
        "icon": "🎯",
        "title": "First lesson",
        "description": "Complete one lesson",
        "unlocked": True,
        "have": 1,
        "need": 1,
    }
    unsigned = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")  # type: ignore[attr-defined]
    refused = await unsigned.post("/api/progress/sync", json=body, headers=await csrf_headers(unsigned))
    assert refused.status_code == 401
    await unsigned.aclose()
    bad = await client.post(
        "/api/progress/sync", json={"quests": {"test": {"code_runs": 5}}}, headers=headers
    )
    assert bad.status_code == 422


@pytest.mark.anyio
async def test_sync_stores_the_time_zone_and_uses_it(client: httpx.AsyncClient):
    user = await sign_up(client)
    headers = await csrf_headers(client)
    await client.post("/api/progress/sync", json={"tz": "Asia/Seoul", "quests": {}}, headers=headers)
    await client.post("/api/progress/sync", json={"tz": "Not/AZone", "quests": {}}, headers=headers)
    with client.app.state.db.session() as session:  # type: ignore[attr-defined]
        assert session.get(User, user["id"]).time_zone == "Asia/Seoul"


@pytest.mark.anyio
async def test_pages_show_the_accounts_progress(client: httpx.AsyncClient):
    await sign_up(client, display_name="Ada")
    headers = await csrf_headers(client)
    await client.post(
        "/api/progress/sync",
        json={"quests": {"test": {"lessons_completed": ["basics/second"]}}},
        headers=headers,
    )
    lesson = (await client.get("/quests/test/basics/second/?lang=en")).text
    assert 'data-field="xp">25<' in lesson and 'data-field="lessons_done">1<' in lesson
    assert "follows you to every device" in lesson and "data-done disabled" in lesson
    assert 'src="/static/js/progress.js"' in lesson and "<script>" not in lesson
    quest_map = (await client.get("/quests/test/")).text
    assert '<li data-lesson="basics/second">' in quest_map
    second = quest_map[quest_map.index('data-lesson="basics/second"') :]
    first = quest_map[
        quest_map.index('data-lesson="basics/first"') : quest_map.index('data-lesson="basics/second"')
    ]
    assert "data-done-mark>" in second.split("</li>")[0] and "data-done-mark hidden" in first
    for lang, words in [
        ("ko", ["XP 변화", "연속 학습 달력", "업적", "완료한 레슨", "달성"]),
        ("en", ["XP over time", "Streak calendar", "Achievements", "Lessons done", "Unlocked"]),
    ]:
        me = await client.get(f"/me?lang={lang}")
        assert me.status_code == 200
        for word in words:
            assert word in me.text, (lang, word)
        assert "<svg" in me.text and 'data-unlocked="true"' in me.text
        # one active day: a labelled column, not a line from that day's zero straight up to its total
        assert 'data-xp-chart="day"' in me.text and "polyline" not in me.text
        assert 'class="xp-bar-label"' in me.text and ">25 XP</text>" in me.text
        assert 'data-done-lesson="basics/second"' in me.text and "data-active-day=" in me.text


def test_xp_chart_draws_one_day_as_a_bar_and_more_as_a_line(quest):
    from questlab.web.progress import xp_chart

    one = xp_chart(evaluate(quest, {("lesson", "basics/first"): Fact("lesson", "basics/first", DAYS[0])}))
    assert one["points"] == "" and one["dots"] == [] and one["bar"]["total"] == 20
    bar = one["bar"]
    assert bar["width"] > 8 and bar["height"] > 8 and bar["y"] + bar["height"] <= one["height"]
    assert bar["x"] < one["width"] / 2 < bar["x"] + bar["width"] and bar["label_y"] < bar["y"]
    two = xp_chart(
        evaluate(
            quest,
            {
                ("lesson", "basics/first"): Fact("lesson", "basics/first", DAYS[0]),
                ("lesson", "basics/second"): Fact("lesson", "basics/second", DAYS[2]),
            },
        )
    )
    assert two["bar"] is None and len(two["dots"]) == 2 and two["points"].count(",") == 3
    assert two["dots"][0]["x"] < two["dots"][1]["x"]


@pytest.mark.anyio
async def test_me_page_shows_locked_achievements_with_how_to_unlock(client: httpx.AsyncClient):
    await sign_up(client)
    me = (await client.get("/me?lang=en")).text
    assert 'class="achievement locked"' in me and "How to unlock: Complete one lesson (0/1)" in me
    assert "No XP yet" in me


def test_migrations_chain(database_url: str):
    from alembic.script import ScriptDirectory

    from questlab.db.core import alembic_config

    script = ScriptDirectory.from_config(alembic_config(database_url))
    assert [(r.revision, r.down_revision) for r in script.walk_revisions()] == [
        ("0005", "0004"),
        ("0004", "0003"),
        ("0003", "0002"),
        ("0002", "0001"),
        ("0001", None),
    ]
    db = Database(database_url)
    try:
        assert db.is_current()
        assert {
            "sessions",
            "password_resets",
            "sign_in_failures",
            "progress_facts",
            "exercise_nonces",
        } <= set(db.table_names())
    finally:
        db.dispose()


def test_downgrade_and_upgrade_again(tmp_path: Path):
    from alembic import command

    from questlab.db import upgrade
    from questlab.db.core import alembic_config

    url = f"sqlite:///{tmp_path / 'down.sqlite3'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0001")
    upgrade(url)
    assert Database(url).is_current()


def test_every_api_route_is_documented():
    from questlab.settings import REPO_DIR
    from questlab.web.routes import API

    documented = (REPO_DIR / "docs" / "api.md").read_text()
    for method, path, _handler, _name in API:
        if path.startswith("/api/"):
            assert f"{method} {path}" in documented, f"docs/api.md does not document {method} {path}"
