"""Re-judging stored submissions after an exercise's checks changed (``questlab regrade``).

Each stored submission of the exercise is run again in the sandbox with a fresh
seed and judged by the exercise's current checks. A submission whose verdict
flips is updated and its learner notified (a ``regrade`` notification). XP
already earned is never taken away; a submission that now passes records the
pass (without the first-try bonus) and completes its lesson, as a pass on
submit does, so the learner earns what it is worth.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from questlab.community.notify import submission_regraded
from questlab.db.models import Submission, utcnow
from questlab.grading.judge.bank import exercise_key, make_entry
from questlab.grading.judge.harness import probe_harness
from questlab.grading.judge.results import grade
from questlab.progress.store import record_exercise_pass, record_lesson_completed


async def _judged_run(runner: Any, exercise: Any, code: str, tries: int = 30) -> tuple[Any, Any]:
    """A fresh entry and the program's run with its seed, waiting while the runner is busy."""
    from questlab.runner import RunnerBusy

    for attempt in range(tries):
        try:
            entry = await make_entry(runner, exercise)
            harness = probe_harness(exercise.probe, entry.seed)
            return entry, await runner.run(code, harness=harness, capability=exercise.requires)
        except RunnerBusy as busy:
            if attempt == tries - 1:
                raise
            await asyncio.sleep(max(0.2, busy.retry_after_s))
    raise AssertionError("unreachable")


@dataclass
class RegradeReport:
    """What a regrade did: submissions re-judged, and the ids whose verdict flipped each way."""

    judged: int = 0
    now_pass: list[int] = field(default_factory=list)
    now_fail: list[int] = field(default_factory=list)
    unchanged: int = 0


async def regrade_lesson(db: Any, quest: Any, lesson: Any, runner: Any, locale: str = "en") -> RegradeReport:
    """Re-judge every stored submission of ``lesson``'s exercise with its current checks.

    Args:
        db: the :class:`questlab.db.Database`.
        quest, lesson: the content model's quest and lesson (a graded exercise).
        runner: a started :class:`questlab.runner.RunnerService`.
        locale: language the stored results are rewritten in (each learner's original one is kept
            when known from the stored results).

    Returns:
        A :class:`RegradeReport`.

    Raises:
        ValueError: when the lesson has no graded exercise.
        questlab.grading.judge.bank.GraderBroken: when the reference solution fails its own checks.
    """
    exercise = lesson.exercise
    if exercise is None or not exercise.graded:
        raise ValueError(f"{quest.slug}/{lesson.key} has no graded exercise")
    with db.session() as session:
        rows = session.execute(
            select(Submission.id, Submission.code, Submission.status, Submission.results_json)
            .where(Submission.quest == quest.slug, Submission.lesson_key == lesson.key)
            .order_by(Submission.id)
        ).all()
    report = RegradeReport()
    version = exercise_key(exercise)
    for submission_id, code, old_status, old_json in rows:
        entry, result = await _judged_run(runner, exercise, code)
        old_locale = json.loads(old_json).get("locale") or locale
        results = grade(exercise, entry, result, code, old_locale)
        results.pop("grader_error", None)
        report.judged += 1
        was_pass, is_pass = old_status == "pass", results["status"] == "pass"
        with db.session() as session:
            row = session.get(Submission, submission_id)
            row.results_json = json.dumps(results, ensure_ascii=False)
            row.status = results["status"]
            row.checks_version = version[:200]
            row.regraded_at = utcnow()
            if was_pass != is_pass:
                submission_regraded(session, submission_id, row.user_id)
                if is_pass:
                    record_exercise_pass(session, row.user_id, quest, lesson.key, first_try=False)
                    record_lesson_completed(session, row.user_id, quest, lesson.key)
                    report.now_pass.append(submission_id)
                else:
                    report.now_fail.append(submission_id)
            else:
                report.unchanged += 1
        await asyncio.sleep(0)
    return report
