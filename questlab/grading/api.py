"""The check API for an exercise's ``checks.py``.

A ``checks.py`` is a list of checks, run in file order in the same sandboxed
process as the learner's code, right after it::

    from questlab.grading.api import check, fail, expect_total

    @check("parameter_count", aspect="parameters",
           en="The MLP has 235,146 parameters.", ko="MLP의 parameter는 235,146개입니다.")
    def parameter_count(sub):
        expect_total(sub.model("MLP"), 235_146)

A check passes when its function returns and fails when it raises
:class:`CheckFailed` (through :func:`fail` or an ``expect_*`` helper). Any other
exception raised while it runs (usually by the learner's code, e.g. in
``forward``) makes it fail with that exception named. When a check fails, the
diagnoses of :mod:`questlab.grading.diagnoses` whose aspect matches look at the
submission and, when one recognises a classic mistake, its explanation is
shown instead of the generic one.

The PyTorch helpers live in :mod:`questlab.grading.probes` and are re-exported
here. See ``docs/grading.md`` for the whole API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from questlab.grading.core import (
    ASPECTS,
    LEARNER_FILE,
    CheckFailed,
    Submission,
    describe,
    learner_line,
)
from questlab.grading.probes import (
    call_trace,
    count_params,
    expect_buffers,
    expect_hooks_fire,
    expect_layers,
    expect_modes,
    expect_moves,
    expect_nonlinear,
    expect_output_close,
    expect_output_shape,
    expect_parameters,
    expect_printed,
    expect_printed_pattern,
    expect_state_dict,
    expect_total,
    forward,
    hooks_fired,
    layer_counts,
    module_tree,
    named_buffers,
    named_parameters,
    stray_tensors,
)


def fail(
    key: str | None = None,
    *,
    ko: str | None = None,
    en: str | None = None,
    context: dict[str, Any] | None = None,
    **params: Any,
) -> CheckFailed:
    """Raise :class:`CheckFailed` (the return annotation lets ``raise fail(...)`` read naturally).

    Either a catalog ``key`` with its ``params``, or the author's own ``ko`` and ``en`` sentences.

    Raises:
        CheckFailed: always.
    """
    text = {"ko": ko or en or "", "en": en or ko or ""} if (ko or en) else None
    raise CheckFailed(key, params=params, text=text, context=context)


@dataclass
class Check:
    """One registered check: a stable ``name``, its function, aspect and messages."""

    name: str
    func: Callable[[Submission], Any]
    aspect: str = "any"
    text: dict[str, str] | None = None
    uses_output: bool = False
    context: dict[str, Any] | None = None


#: Checks registered while a checks.py runs, in file order (reset by the driver).
REGISTRY: list[Check] = []


def check(
    name: str,
    *,
    aspect: str = "any",
    ko: str | None = None,
    en: str | None = None,
    uses_output: bool = False,
    context: dict[str, Any] | None = None,
) -> Callable[[Callable[[Submission], Any]], Callable[[Submission], Any]]:
    """Register the decorated function as a check.

    Args:
        name: stable identifier (``snake_case``), shown in results and kept across versions.
        aspect: what it looks at, one of :data:`ASPECTS`; picks the diagnoses tried on failure.
        ko, en: the check's default failure sentence per locale (used by a bare ``fail()``
            and as the description of the check).
        uses_output: the check reads the program's printed output; its result shows that output.
        context: facts for the diagnoses added to every failure of this check (the failure's own
            context wins), e.g. ``{"expected_parameters": {"gain": [4]}}`` so that a printed-output
            check is explained the same way as the structural check it depends on.

    Raises:
        ValueError: for an unknown aspect or a name registered twice.
    """
    if aspect not in ASPECTS:
        raise ValueError(f"unknown aspect {aspect!r}; use one of {ASPECTS}")

    def register(func: Callable[[Submission], Any]) -> Callable[[Submission], Any]:
        if any(c.name == name for c in REGISTRY):
            raise ValueError(f"check name {name!r} is used twice")
        text = {"ko": ko or en or "", "en": en or ko or ""} if (ko or en) else None
        REGISTRY.append(Check(name, func, aspect, text, uses_output, dict(context or {})))
        return func

    return register


__all__ = [
    "LEARNER_FILE",
    "ASPECTS",
    "Check",
    "CheckFailed",
    "REGISTRY",
    "Submission",
    "call_trace",
    "check",
    "count_params",
    "describe",
    "expect_buffers",
    "expect_hooks_fire",
    "expect_layers",
    "expect_modes",
    "expect_moves",
    "expect_nonlinear",
    "expect_output_close",
    "expect_output_shape",
    "expect_parameters",
    "expect_printed",
    "expect_printed_pattern",
    "expect_state_dict",
    "expect_total",
    "fail",
    "forward",
    "hooks_fired",
    "layer_counts",
    "learner_line",
    "module_tree",
    "named_buffers",
    "named_parameters",
    "stray_tensors",
]
