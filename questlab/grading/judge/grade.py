"""From a sandbox run to a verdict: decode the report, run the checks, name the mistake.

Everything here runs on the server. The learner's run only contributes its
report (decoded with :mod:`questlab.grading.judge.wire`), its printed output
and its status; the checks, the reference's observations and the mistake
variants' evidence come from trusted sources (:mod:`questlab.grading.judge.bank`).
"""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from questlab.grading.judge.api import Check, CheckFailed, Observations, ReferenceBroken
from questlab.grading.judge.rules import diagnose
from questlab.grading.judge.wire import Malformed, decode, same

log = logging.getLogger("questlab.grading")


class ChecksBroken(Exception):
    """``checks.py`` cannot be loaded, or a check raised on the reference's observations."""


@lru_cache(maxsize=256)
def load_checks(source: str) -> tuple[Check, ...]:
    """The checks ``source`` (a ``checks.py``) declares, in file order.

    Raises:
        ChecksBroken: when it does not run, declares no check, or declares a name twice.
    """
    namespace: dict[str, Any] = {"__name__": "checks"}
    try:
        exec(compile(source, "checks.py", "exec"), namespace)
    except Exception as err:
        raise ChecksBroken(f"checks.py does not load: {type(err).__name__}: {err}") from err
    checks = [v.__questlab_check__ for v in namespace.values() if hasattr(v, "__questlab_check__")]
    names = [c.name for c in checks]
    if not checks:
        raise ChecksBroken("checks.py declares no @check")
    if len(set(names)) != len(names):
        raise ChecksBroken(f"checks.py declares a check name twice: {names}")
    return tuple(checks)


@dataclass
class Report:
    """A decoded probe report.

    Attributes:
        observations: decoded observations by name.
        learner_error: ``{"type", "message", "line"}`` when the program raised, else ``None``.
        problem: why the report could not be used (``None`` when it could); the run's
            observations are then empty, so every check fails.
        probe_error: the traceback of ``probe.py`` itself (trusted runs only report it).
    """

    observations: dict[str, Any] = field(default_factory=dict)
    learner_error: dict[str, Any] | None = None
    problem: str | None = None
    probe_error: str | None = None


def read_report(raw: Any) -> Report:
    """Decode a run's raw report; anything malformed gives an empty :class:`Report` with a ``problem``."""
    if not isinstance(raw, dict) or raw.get("probe") != 2 or not isinstance(raw.get("observations"), dict):
        return Report(problem="no report" if raw is None else "the report is not a probe report")
    report = Report()
    error = raw.get("learner_error")
    if isinstance(error, dict):
        line = error.get("line")
        report.learner_error = {
            "type": str(error.get("type", ""))[:100],
            "message": str(error.get("message", ""))[:500],
            "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
        }
    if isinstance(raw.get("probe_error"), str):
        report.probe_error = raw["probe_error"][-4000:]
    try:
        report.observations = {str(k)[:100]: decode(v) for k, v in raw["observations"].items()}
    except (Malformed, RecursionError) as err:
        return Report(learner_error=report.learner_error, problem=f"malformed observations: {err}")
    return report


@dataclass
class Outcome:
    """One check's verdict: ``failure`` is ``None`` when it passed; ``read`` lists the
    observations it used (``"$stdout"`` for the printed output)."""

    check: Check
    failure: CheckFailed | None
    read: list[str]

    @property
    def passed(self) -> bool:
        """Whether the check passed."""
        return self.failure is None


def run_checks(
    checks: tuple[Check, ...],
    observations: dict[str, Any],
    reference: dict[str, Any],
    stdout: str,
    source: str,
    trusted: bool = False,
) -> list[Outcome]:
    """Judge one program's observations against the reference's.

    Args:
        checks: from :func:`load_checks`.
        observations: the program's decoded observations.
        reference: the reference solution's decoded observations on the same seed.
        stdout: what the program printed; source: its code.
        trusted: the program is the reference or a mistake variant: an unexpected exception in a
            check is an author bug (:class:`ChecksBroken`) rather than a failed check.

    Returns:
        One :class:`Outcome` per check, in order. A check that raises anything but
        :class:`CheckFailed` on learner data fails with ``observation_malformed``: it never passes.

    Raises:
        ChecksBroken: a check raised :class:`ReferenceBroken`, or raised on trusted data.
    """
    outcomes = []
    for chk in checks:
        obs = Observations(observations, reference, stdout, source)
        failure: CheckFailed | None = None
        try:
            chk.func(obs)
        except CheckFailed as failed:
            failure = failed
        except ReferenceBroken as broken:
            raise ChecksBroken(f"check {chk.name!r}: {broken}") from broken
        except Exception as err:
            if trusted:
                raise ChecksBroken(f"check {chk.name!r} raised {type(err).__name__}: {err}") from err
            failure = CheckFailed("observation_malformed", params={"what": chk.name})
        outcomes.append(Outcome(chk, failure, list(dict.fromkeys(obs.read))))
    return outcomes


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def _printed_evidence(stdout: str, reference_stdout: str) -> dict[str, list[str]]:
    """What a mistake's output shows against the reference's: lines only it prints, lines it lacks."""
    mine, theirs = _lines(stdout), _lines(reference_stdout)
    return {"extra": [x for x in mine if x not in theirs], "missing": [x for x in theirs if x not in mine]}


def _printed_matches(evidence: dict[str, list[str]], stdout: str) -> bool:
    """A program shows a mistake's printed evidence when it prints the mistake's extra lines and lacks
    the lines the mistake lacks; anything else it prints does not matter."""
    printed = set(_lines(stdout))
    return all(x in printed for x in evidence["extra"]) and not any(x in printed for x in evidence["missing"])


@dataclass
class MistakeEvidence:
    """What a mistake variant did on one seed: the checks it fails and the observations they read."""

    name: str
    failing: tuple[str, ...]
    evidence: dict[str, Any]

    @classmethod
    def from_outcomes(
        cls,
        name: str,
        outcomes: list[Outcome],
        observations: dict[str, Any],
        stdout: str,
        reference_stdout: str = "",
    ) -> MistakeEvidence:
        """Collect the evidence of a mistake variant's judged run.

        Printed output (``"$stdout"``) is kept as the lines that differ from the reference's output
        (:func:`_printed_evidence`), so a learner who prints more than the mistake still matches.
        """
        failing = tuple(o.check.name for o in outcomes if not o.passed)
        read = {n for o in outcomes if not o.passed for n in o.read}
        evidence = {
            n: _printed_evidence(stdout, reference_stdout) if n == "$stdout" else observations.get(n)
            for n in sorted(read)
        }
        return cls(name, failing, evidence)

    def matches(self, outcomes: list[Outcome], observations: dict[str, Any], stdout: str) -> bool:
        """Whether a program fails every check this mistake fails, with the same observations there."""
        failing = {o.check.name for o in outcomes if not o.passed}
        if not self.failing or not set(self.failing) <= failing:
            return False
        return all(
            _printed_matches(v, stdout) if n == "$stdout" else same(observations.get(n), v)
            for n, v in self.evidence.items()
        )


def match_mistake(
    mistakes: list[MistakeEvidence], outcomes: list[Outcome], observations: dict[str, Any], stdout: str
) -> MistakeEvidence | None:
    """The most specific mistake variant the program matches (most failing checks), or ``None``."""
    found = [m for m in mistakes if m.matches(outcomes, observations, stdout)]
    found.sort(key=lambda m: (-len(m.failing), -len(m.evidence), m.name))
    return found[0] if found else None


def syntax_problem(code: str) -> dict[str, Any] | None:
    """``{"type", "message", "line", "detail"}`` when ``code`` does not compile, else ``None``.

    Compiling runs nothing, so this is decided on the server without a sandbox run.
    """
    try:
        compile(code, "main.py", "exec", dont_inherit=True)
    except SyntaxError as err:
        text = (err.text or "").rstrip("\n")
        caret = " " * max(0, (err.offset or 1) - 1) + "^" if text else ""
        detail = (
            f'  File "main.py", line {err.lineno}\n    {text}\n    {caret}\n{type(err).__name__}: {err.msg}'
            if text
            else f"{type(err).__name__}: {err.msg}"
        )
        return {"type": type(err).__name__, "message": err.msg, "line": err.lineno, "detail": detail}
    except (ValueError, RecursionError, MemoryError, OverflowError) as err:
        return {
            "type": type(err).__name__,
            "message": str(err)[:200],
            "line": None,
            "detail": f"{type(err).__name__}: {str(err)[:200]}",
        }
    return None


def parse_tree(code: str) -> ast.Module | None:
    """The program's AST, or ``None`` when it does not parse."""
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def diagnosis_for(
    outcome: Outcome, observations: dict[str, Any], tree: ast.Module | None
) -> tuple[str, str, dict[str, Any]] | None:
    """A rule-based diagnosis for a failed outcome (see :mod:`questlab.grading.judge.rules`)."""
    assert outcome.failure is not None
    values = [observations.get(n) for n in outcome.read if n != "$stdout"]
    return diagnose(outcome.failure, outcome.check.aspect, values, tree)
