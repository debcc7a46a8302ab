"""What ``questlab check`` proves about a graded exercise, with real sandbox runs.

For one fresh seed: the reference solution passes every check, twice, with the
same observations (its checks are deterministic); the starter fails at least
one check; every mistake variant fails and is diagnosed as itself when graded
as a learner's submission would be.
"""

from __future__ import annotations

import asyncio
from typing import Any

from questlab.grading.judge.bank import GraderBroken, make_entry, new_seed
from questlab.grading.judge.grade import ChecksBroken, read_report
from questlab.grading.judge.harness import probe_harness
from questlab.grading.judge.results import grade
from questlab.grading.judge.wire import same


async def verify_exercise(runner: Any, exercise: Any, label: str) -> list[str]:
    """Check ``exercise`` end to end and return one sentence per problem (empty: all good).

    Args:
        runner: a started :class:`questlab.runner.RunnerService`.
        exercise: a graded :class:`questlab.content.model.Exercise`.
        label: how problems name the exercise (e.g. ``"pytorch/networks/nn-module"``).
    """
    seed = new_seed()
    try:
        entry = await make_entry(runner, exercise, seed)
    except (GraderBroken, ChecksBroken) as err:
        return [f"{exercise.path / 'solution.py'}: {label}: {err}"]
    harness = probe_harness(exercise.probe, seed)
    programs = {
        "solution": exercise.solution,
        "starter": exercise.starter,
        **{f"mistake {m.name}": m.source for m in exercise.mistakes},
    }
    results = dict(
        zip(
            programs,
            await asyncio.gather(
                *(runner.run(c, harness=harness, capability=exercise.requires) for c in programs.values())
            ),
            strict=True,
        )
    )
    problems = []
    again = read_report(results["solution"].report)
    if not same(again.observations, entry.reference):
        changed = sorted(
            k for k in entry.reference if not same(again.observations.get(k), entry.reference[k])
        )
        problems.append(
            f"{exercise.path / 'probe.py'}: {label}: two runs of the solution with one seed "
            f"observe different values for {', '.join(changed) or 'the set of observations'}: "
            "the probe must be deterministic for a seed"
        )
    graded = {name: grade(exercise, entry, result, programs[name]) for name, result in results.items()}
    solution = graded["solution"]
    if solution["status"] != "pass":
        reasons = "; ".join(
            f"{t['name']}: {t['message']}" for t in solution["tests"] if t["status"] != "pass"
        )
        problems.append(
            f"{exercise.path / 'solution.py'}: {label}: the solution must pass every check but got "
            f"'{solution['status']}': {reasons or solution.get('message')}"
        )
    if graded["starter"]["status"] == "pass":
        problems.append(
            f"{exercise.path / 'starter.py'}: {label}: the starter passes every check; it must fail"
        )
    for mistake in exercise.mistakes:
        if mistake.name in entry.unusable:
            problems.append(
                f"{mistake.path}: {label}: the mistake variant cannot be used: {entry.unusable[mistake.name]}"
            )
            continue
        results_of = graded[f"mistake {mistake.name}"]
        if results_of["status"] == "pass":
            problems.append(
                f"{mistake.path}: {label}: the mistake variant passes every check; it must fail one"
            )
            continue
        names = {t["diagnosis"] for t in results_of["tests"] if t["diagnosis"]}
        if mistake.name not in names:
            problems.append(
                f"{mistake.path}: {label}: the mistake variant is not diagnosed as itself "
                f"(diagnoses: {', '.join(sorted(n for n in names if n)) or 'none'}; "
                f"status {results_of['status']}: {results_of.get('message') or ''})"
            )
    return problems
