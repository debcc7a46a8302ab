"""A runner shared by the grading tests (starting one takes a few seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from questlab.runner import RunLimits, RunnerService

REPO = Path(__file__).resolve().parents[2]
EXERCISE = REPO / "quests" / "pytorch" / "02-networks" / "01-nn-module" / "exercise"
#: Tighter than the defaults so the timeout fixture takes 2 s, not 5.
LIMITS = RunLimits(cpu_seconds=2, wall_seconds=4)


@pytest.fixture(scope="session")
def runner() -> Iterator[RunnerService]:
    service = RunnerService(slots=2, queue_size=32, limits=LIMITS, sandbox="auto")
    try:
        yield service
    finally:
        service.close_sync()


@pytest.fixture(scope="session")
def roomy_runner() -> Iterator[RunnerService]:
    """Default limits, for exercises whose programs train a model (the tight ones suit the timeout test)."""
    service = RunnerService(slots=2, queue_size=32, limits=RunLimits(), sandbox="auto")
    try:
        yield service
    finally:
        service.close_sync()
