"""``questlab check`` grades every exercise: the solution must pass, the starter must fail.

The bundled quest's whole check runs once, in tests/test_cli.py (test_bundled_quest_checks_clean).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console

from questlab.content.check import check_content
from tests.grading.conftest import REPO


def test_a_failing_solution_is_reported(tmp_path: Path) -> None:
    quest = shutil.copytree(REPO / "quests" / "pytorch", tmp_path / "pytorch")
    exercise = quest / "02-networks" / "01-nn-module" / "exercise"
    (exercise / "solution.py").write_text((exercise / "starter.py").read_text())
    console = Console(record=True, width=200)
    assert check_content(tmp_path, console=console, only="networks/nn-module") == 1
    report = console.export_text()
    assert "the solution must pass every check" in report and "parameter_count" in report


def test_a_mistake_that_passes_is_reported(tmp_path: Path) -> None:
    quest = shutil.copytree(REPO / "quests" / "pytorch", tmp_path / "pytorch")
    exercise = quest / "02-networks" / "01-nn-module" / "exercise"
    (exercise / "mistakes" / "missing-activation.py").write_text((exercise / "solution.py").read_text())
    console = Console(record=True, width=200)
    assert check_content(tmp_path, console=console, only="networks/nn-module") == 1
    assert "the mistake variant passes every check" in console.export_text()


def test_a_mistake_that_cannot_be_used_says_why(tmp_path: Path) -> None:
    """A variant whose run gives no report is an author bug named as such, not "not diagnosed"."""
    quest = shutil.copytree(REPO / "quests" / "pytorch", tmp_path / "pytorch")
    exercise = quest / "02-networks" / "01-nn-module" / "exercise"
    (exercise / "mistakes" / "missing-activation.py").write_text("import os\nos._exit(0)\n")
    console = Console(record=True, width=300)
    assert check_content(tmp_path, console=console, only="networks/nn-module") == 1
    report = console.export_text()
    assert "missing-activation.py" in report
    assert "the mistake variant cannot be used" in report
    assert "not diagnosed as itself" not in report
