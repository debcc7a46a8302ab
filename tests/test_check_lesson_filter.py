"""``questlab check --lesson``: only the picked lessons run; a filter matching nothing fails."""

from __future__ import annotations

from pathlib import Path

from questlab.content.execute import collect_jobs, graded_exercises, selected
from questlab.content.loader import load_catalog

QUESTS = Path(__file__).resolve().parents[1] / "quests"


def test_selected_matches_whole_slugs_only() -> None:
    assert selected("pytorch", "networks/nn-module", None)
    assert selected("pytorch", "networks/nn-module", "networks")
    assert selected("pytorch", "networks/nn-module", "networks/nn-module")
    assert selected("pytorch", "networks/nn-module", "pytorch/networks/")
    assert not selected("pytorch", "networks/nn-module", "network")
    assert not selected("pytorch", "networks/nn-module", "networks/nn")
    assert not selected("pytorch", "training/autograd", "networks")


def test_collect_jobs_keeps_only_the_picked_lesson() -> None:
    catalog = load_catalog(QUESTS, preview=True)
    everything = collect_jobs(catalog)
    one = collect_jobs(catalog, "networks/containers")
    assert one and len(one) < len(everything)
    assert all("/networks/containers " in job.label for job in one)
    labels = [label for label, _ in graded_exercises(catalog, "networks/containers")]
    assert labels == ["pytorch/networks/containers"]


def test_check_fails_when_no_lesson_matches(capsys) -> None:
    from rich.console import Console

    from questlab.content.check import check_content

    console = Console(force_terminal=False, width=200)
    assert check_content(QUESTS, run=False, console=console, only="no-such-chapter") == 1
    assert "no lesson matches" in capsys.readouterr().out
