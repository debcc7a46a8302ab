"""The judge: verdicts made on the server, where learner code never ran.

An exercise's ``checks.py`` imports its API from here::

    from questlab.grading.judge import check, expect_layers, expect_same_outputs

Nothing in this package runs in the sandbox, and nothing here imports the
sandbox side's modules: the judge only reads the plain data the sandbox
reported (:mod:`questlab.grading.judge.wire`). See docs/grading.md.
"""

from questlab.grading.judge.api import (
    CheckFailed,
    Observations,
    check,
    expect_buffers,
    expect_close,
    expect_equal,
    expect_hooks_fire,
    expect_layers,
    expect_parameters,
    expect_printed,
    expect_printed_in_order,
    expect_printed_pattern,
    expect_same_outputs,
    expect_tensor,
    expect_total,
    fail,
    layers_of,
    module,
    parameters_of,
)
from questlab.grading.judge.wire import ObservedError, Tensor

__all__ = [
    "CheckFailed",
    "ObservedError",
    "Observations",
    "Tensor",
    "check",
    "expect_buffers",
    "expect_close",
    "expect_equal",
    "expect_hooks_fire",
    "expect_layers",
    "expect_parameters",
    "expect_printed",
    "expect_printed_in_order",
    "expect_printed_pattern",
    "expect_same_outputs",
    "expect_tensor",
    "expect_total",
    "fail",
    "layers_of",
    "module",
    "parameters_of",
]
