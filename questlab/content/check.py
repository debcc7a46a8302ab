"""``questlab check``: validate content, run code blocks and exercises, report with Rich."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from questlab.content.loader import Catalog, load_catalog


def report_problems(catalog: Catalog, console: Console) -> None:
    """Print every content problem as ``path:line: severity: message``."""
    for problem in catalog.problems:
        colour = "red" if problem.severity == "error" else "yellow"
        console.print(
            f"[{colour}]{problem.severity}[/] {problem.location()}: {problem.message}",
            highlight=False,
            soft_wrap=True,
        )


def check_content(
    root: Path,
    *,
    strict: bool = False,
    run: bool = True,
    console: Console | None = None,
    only: str | None = None,
) -> int:
    """Check the quests under ``root``.

    Args:
        root: a quests folder or one quest folder.
        strict: count warnings as errors.
        run: also run every runnable block and exercise through the runner (when available).
        console: where to print the report.
        only: run only the lessons under this ``chapter/lesson`` prefix (content problems of
            the whole tree are still reported, since one broken file can break others).

    Returns:
        The exit code: 0 when nothing is wrong, 1 otherwise.
    """
    console = console or Console()
    catalog = load_catalog(root, preview=True)
    report_problems(catalog, console)
    failures = len(catalog.errors) + (len(catalog.warnings) if strict else 0)
    if only:
        from questlab.content.execute import selected

        if not any(
            selected(quest.slug, lesson.key, only)
            for quest in catalog.quests.values()
            for lesson in quest.lessons()
        ):
            console.print(f"[red]error[/] no lesson matches --lesson {only}", highlight=False)
            return 1
    if run and catalog.quests:
        from questlab.content.execute import run_content

        failures += run_content(catalog, console, only)
    lessons = sum(len(q.lessons()) for q in catalog.quests.values())
    summary = (
        f"{len(catalog.quests)} quest(s), {lessons} lesson(s): "
        f"{len(catalog.errors)} error(s), {len(catalog.warnings)} warning(s)"
    )
    if failures:
        console.print(f"[red bold]✗ {summary}; {failures} problem(s) in total[/]")
        return 1
    console.print(f"[green bold]✓ {summary}[/]")
    return 0
