"""Run a catalog's code through the runner: every runnable block, and every graded exercise end to end.

Blocks run in parallel across the runner's pool; output is compared with the
documented ``output`` fence using doctest's rules (``...`` matches anything,
trailing whitespace is ignored). Graded exercises are proven by
:func:`questlab.grading.judge.verify.verify_exercise`.
"""

from __future__ import annotations

import asyncio
import difflib
import doctest
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from questlab.content.loader import Catalog

_CHECKER = doctest.OutputChecker()


def output_matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` output matches the documented ``expected`` output (doctest ELLIPSIS rules)."""

    def norm(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"

    return _CHECKER.check_output(norm(expected), norm(actual), doctest.ELLIPSIS)


@dataclass
class Job:
    """One thing to run: a code block (with its expected output) or an exercise file."""

    label: str
    path: Path
    line: int | None
    code: str
    expected: str | None = None


def selected(quest_slug: str, lesson_key: str, only: str | None) -> bool:
    """Whether a lesson is picked by ``only`` (``None`` picks all).

    Args:
        quest_slug: the quest's slug, e.g. ``pytorch``.
        lesson_key: ``chapter/lesson`` slugs, e.g. ``networks/hooks``.
        only: a prefix of ``chapter/lesson`` or of ``quest/chapter/lesson``
            (``networks`` picks a chapter, ``networks/hooks`` one lesson).
    """
    if not only:
        return True
    only = only.strip("/")
    full = f"{quest_slug}/{lesson_key}"
    return any(key == only or key.startswith(only + "/") for key in (lesson_key, full))


def collect_jobs(catalog: Catalog, only: str | None = None) -> list[Job]:
    """List every runnable block of every locale, and the solution of every exercise not graded yet
    (graded ones are verified by :func:`questlab.grading.judge.verify.verify_exercise`).

    Args:
        catalog: the loaded content.
        only: restrict to the lessons :func:`selected` picks.
    """
    jobs: list[Job] = []
    for quest in catalog.quests.values():
        for lesson in quest.lessons():
            if not selected(quest.slug, lesson.key, only):
                continue
            for text in lesson.texts.values():
                for block in text.code_blocks:
                    if block.runnable:
                        jobs.append(
                            Job(
                                f"{quest.slug}/{lesson.key} [{text.locale}] block {block.index + 1}",
                                text.path,
                                block.line,
                                block.code,
                                block.expected_output,
                            )
                        )
            exercise = lesson.exercise
            if exercise is not None and not exercise.graded:
                jobs.append(
                    Job(
                        f"{quest.slug}/{lesson.key} solution",
                        exercise.path / "solution.py",
                        None,
                        exercise.solution,
                    )
                )
    return jobs


def judge(job: Job, result: object) -> str | None:
    """Return a sentence saying what is wrong with ``result`` for ``job``, or ``None`` when it is right."""
    status = result.status
    location = f"{job.path}:{job.line}" if job.line else str(job.path)
    if status != "ok":
        detail = (
            getattr(result, "message", None)
            or getattr(result, "traceback", None)
            or getattr(result, "stderr", "")
        )
        return f"{location}: {job.label} did not run cleanly ({status}):\n{detail}"
    if job.expected is not None and not output_matches(job.expected, result.stdout):
        diff = "".join(
            difflib.unified_diff(
                job.expected.splitlines(True), result.stdout.splitlines(True), "documented", "actual"
            )
        )
        return f"{location}: {job.label}: output differs from the documented output:\n{diff}"
    return None


def graded_exercises(catalog: Catalog, only: str | None = None) -> list[tuple[str, object]]:
    """``(label, exercise)`` of every graded exercise :func:`selected` picks, for
    :func:`questlab.grading.judge.verify`."""
    return [
        (f"{quest.slug}/{lesson.key}", lesson.exercise)
        for quest in catalog.quests.values()
        for lesson in quest.lessons()
        if lesson.exercise is not None and lesson.exercise.graded and selected(quest.slug, lesson.key, only)
    ]


async def _run_all(
    jobs: list[Job], exercises: list[tuple[str, object]], progress: Progress
) -> tuple[list[str], list[str]]:
    """Run every job and verify every exercise; return (the jobs' problems, the exercises' problems)."""
    from questlab.grading.judge.verify import verify_exercise
    from questlab.runner import RunLimits, RunnerService

    # Every job is queued at once on purpose (RunnerService's default has no expected-wait bound).
    runner = RunnerService(
        slots=2,
        queue_size=len(jobs) + 40 * len(exercises) + 8,
        limits=RunLimits(cpu_seconds=30, wall_seconds=60, memory_mb=1024),
    )
    await runner.start()
    task = progress.add_task("running code", total=len(jobs) + len(exercises))
    problems: list[str] = []
    exercise_problems: list[str] = []
    try:

        async def one(job: Job) -> None:
            result = await runner.run(job.code)
            problem = judge(job, result)
            if problem:
                problems.append(problem)
            progress.advance(task)

        async def exercise(label: str, item: object) -> None:
            exercise_problems.extend(await verify_exercise(runner, item, label))
            progress.advance(task)

        await asyncio.gather(
            *(one(job) for job in jobs), *(exercise(label, item) for label, item in exercises)
        )
    finally:
        await runner.close()
    return problems, exercise_problems


def run_content(catalog: Catalog, console: Console, only: str | None = None) -> int:
    """Run every job of ``catalog`` with a progress bar and print each mismatch.

    Args:
        catalog: the loaded content.
        console: where to print.
        only: restrict to the lessons :func:`selected` picks (``None``: all).

    Returns:
        The number of failed jobs.
    """
    jobs = collect_jobs(catalog, only)
    exercises = graded_exercises(catalog, only)
    if not jobs and not exercises:
        return 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        problems, exercise_problems = asyncio.run(_run_all(jobs, exercises, progress))
    for problem in problems + exercise_problems:
        console.print(f"[red]error[/] {problem}", highlight=False, soft_wrap=True)
    console.print(f"ran {len(jobs)} code block(s): {len(jobs) - len(problems)} as documented", soft_wrap=True)
    if exercises:
        console.print(
            f"checked {len(exercises)} graded exercise(s) (solution twice, starter, each mistake variant): "
            f"{len(exercise_problems)} problem(s)",
            soft_wrap=True,
        )
    return len(problems) + len(exercise_problems)
