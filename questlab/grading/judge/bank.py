"""Reference evidence per seed, made ahead of time in trusted runs.

An :class:`Entry` holds one seed, the reference solution's observations on it
and every mistake variant's evidence. Entries are made by running
``solution.py`` and ``mistakes/*.py`` with the exercise's probe in the sandbox
(trusted code, never beside learner code), kept in a small per-exercise
:class:`GradingBank`, and used once: each submission gets a seed nobody has
seen, and the learner's run costs no extra sandbox start when an entry is
ready. When none is ready, the entry's runs start together with the learner's.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from questlab.grading.judge.grade import (
    ChecksBroken,
    MistakeEvidence,
    Report,
    load_checks,
    read_report,
    run_checks,
)
from questlab.grading.judge.harness import probe_harness

log = logging.getLogger("questlab.grading")

#: Entries kept ready per exercise.
BANK_SIZE = 2


class GraderBroken(Exception):
    """The reference solution does not run or does not pass its own checks on a seed."""


@dataclass
class Entry:
    """One seed's trusted evidence.

    Attributes:
        seed: the seed, an int in ``[0, 2**63)``.
        reference: the reference solution's decoded observations.
        mistakes: each mistake variant's :class:`MistakeEvidence` (those that ran).
        unusable: mistake name → why its trusted run or its checks could not be used (an author
            bug: the probe or a check raised on it); such a mistake is never matched, and
            ``questlab check`` reports the reason.
    """

    seed: int
    reference: dict[str, Any]
    mistakes: list[MistakeEvidence]
    unusable: dict[str, str] = field(default_factory=dict)


def new_seed() -> int:
    """A fresh seed from the operating system's CSPRNG."""
    return secrets.randbits(63)


def exercise_key(exercise: Any) -> str:
    """A key that changes whenever the exercise's probe, checks, solution or mistakes change."""
    digest = hashlib.sha256()
    for part in (
        exercise.probe or "",
        exercise.checks or "",
        exercise.solution,
        *(m.name + "\0" + m.source for m in exercise.mistakes),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return f"{exercise.path}:{digest.hexdigest()[:16]}"


def read_trusted(result: Any, label: str) -> Report:
    """Decode a trusted run's report; raise :class:`GraderBroken` when it is unusable."""
    if getattr(result, "status", None) not in ("ok", "error"):
        raise GraderBroken(f"{label} ended with {result.status}: {getattr(result, 'message', '')}")
    report = read_report(getattr(result, "report", None))
    if report.probe_error:
        raise GraderBroken(f"probe.py raised on {label}:\n{report.probe_error}")
    if report.problem:
        raise GraderBroken(f"{label}: {report.problem} ({getattr(result, 'harness_error', None) or ''})")
    return report


async def make_entry(runner: Any, exercise: Any, seed: int | None = None) -> Entry:
    """Run the reference and every mistake variant with one seed and collect their evidence.

    Args:
        runner: a started :class:`questlab.runner.RunnerService`.
        exercise: a :class:`questlab.content.model.Exercise` with ``probe`` and ``checks``.
        seed: the seed (default: :func:`new_seed`).

    Raises:
        GraderBroken: the reference does not run cleanly or fails a check.
        ChecksBroken: ``checks.py`` does not load, or raises on the reference's data.
    """
    seed = new_seed() if seed is None else seed
    checks = load_checks(exercise.checks)
    harness = probe_harness(exercise.probe, seed)
    programs = [exercise.solution, *(m.source for m in exercise.mistakes)]
    capability = getattr(exercise, "requires", None)
    results = await asyncio.gather(
        *(runner.run(code, harness=harness, capability=capability) for code in programs)
    )
    reference = read_trusted(results[0], "the reference solution")
    if reference.learner_error or results[0].status != "ok":
        raise GraderBroken(f"the reference solution raised: {reference.learner_error or results[0].status}")
    outcomes = run_checks(
        checks,
        reference.observations,
        reference.observations,
        results[0].stdout,
        exercise.solution,
        trusted=True,
    )
    failing = [o for o in outcomes if not o.passed]
    if failing:
        from questlab.grading.messages import localize

        reasons = "; ".join(
            f"{o.check.name}: "
            + localize(o.failure.key or "", o.failure.params, "en", text=o.failure.text or o.check.text)
            for o in failing
            if o.failure is not None
        )
        raise GraderBroken(f"the solution must pass every check but fails {reasons}")
    evidence = []
    unusable: dict[str, str] = {}
    for mistake, result in zip(exercise.mistakes, results[1:], strict=False):
        try:
            report = read_trusted(result, f"mistake {mistake.name}")
            judged = run_checks(
                checks,
                report.observations,
                reference.observations,
                result.stdout,
                mistake.source,
                trusted=True,
            )
        except (GraderBroken, ChecksBroken) as err:
            log.error("mistake variant %s of %s cannot be used: %s", mistake.name, exercise.path, err)
            unusable[mistake.name] = str(err)
            continue
        evidence.append(
            MistakeEvidence.from_outcomes(
                mistake.name, judged, report.observations, result.stdout, results[0].stdout
            )
        )
    return Entry(seed, reference.observations, evidence, unusable)


class _Limited:
    """A runner whose trusted runs take at most ``width`` places at once, so that making entries in
    the background never fills the runner's queue that learners' runs wait in."""

    def __init__(self, runner: Any, width: int) -> None:
        self.runner = runner
        self.width = width
        self.gate = asyncio.Semaphore(width)
        #: trusted runs waiting for one of the ``width`` places
        self.waiting = 0

    async def run(self, code: str, **kwargs: Any) -> Any:
        self.waiting += 1
        try:
            await self.gate.acquire()
        finally:
            self.waiting -= 1
        try:
            return await self.runner.run(code, **kwargs)
        finally:
            self.gate.release()


class GradingBank:
    """Entries made ahead of time, per exercise, each used once.

    Args:
        runner: the server's :class:`questlab.runner.RunnerService`.
        size: entries kept ready per exercise.
        width: trusted runs in flight at once, over all exercises.
    """

    def __init__(self, runner: Any, size: int = BANK_SIZE, width: int = 2) -> None:
        self.runner = _Limited(runner, width)
        self.size = size
        self._ready: dict[str, deque[asyncio.Task[Entry]]] = {}

    def _start(self, exercise: Any) -> asyncio.Task[Entry]:
        seed = new_seed()
        task = asyncio.get_running_loop().create_task(make_entry(self.runner, exercise, seed))
        task.seed = seed  # type: ignore[attr-defined]
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # no "never retrieved" noise
        return task

    def _queue(self, exercise: Any) -> deque[asyncio.Task[Entry]]:
        """The exercise's entries, without those whose making failed (each failure logged once)."""
        queue = self._ready.setdefault(exercise_key(exercise), deque())
        while queue and queue[0].done() and (error := queue[0].exception()) is not None:
            log.warning("an entry for %s could not be made: %s", exercise.path, error)
            queue.popleft()
        return queue

    def warm(self, exercise: Any) -> None:
        """Start making entries for ``exercise`` until :attr:`size` are ready or in progress."""
        queue = self._queue(exercise)
        while len(queue) < self.size:
            queue.append(self._start(exercise))

    def ready(self, exercise: Any) -> bool:
        """Whether an entry for ``exercise`` is made and waiting (a submission then costs one run)."""
        queue = self._queue(exercise)
        return bool(queue) and queue[0].done()

    def expected_wait_s(self) -> float:
        """Seconds the trusted runs waiting now are expected to take before a new one starts: the
        backlog × the runner's typical run time (0.05 s when it has none) ÷ the places."""
        typical = self.runner.runner.typical_run_s() if hasattr(self.runner.runner, "typical_run_s") else 0.05
        return self.runner.waiting * typical / self.runner.width

    def take(self, exercise: Any) -> tuple[int, asyncio.Task[Entry]]:
        """Take one entry for a submission: ``(seed, task)``; the task may still be running.

        The entry leaves the bank (a seed serves one submission); call :meth:`warm` once the
        submission is judged to make its replacement without slowing the submission down.
        """
        queue = self._queue(exercise)
        task = queue.popleft() if queue else self._start(exercise)
        return task.seed, task  # type: ignore[attr-defined]

    async def close(self) -> None:
        """Cancel every entry still being made."""
        for queue in self._ready.values():
            for task in queue:
                task.cancel()
        self._ready.clear()
