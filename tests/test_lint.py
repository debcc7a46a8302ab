"""The code base stays clean under ruff's lint rules and formatter (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from questlab.settings import REPO_DIR


def test_ruff_lint_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=REPO_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "questlab", "tests", "bench", "scripts"],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_merge_conflict_markers():
    files = subprocess.run(["git", "ls-files"], cwd=REPO_DIR, capture_output=True, text=True).stdout.split()
    marked = []
    for name in files:
        path = REPO_DIR / name
        if not path.is_file() or path.suffix in {".png", ".whl", ".ico"} or "static/editor" in name:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in text.splitlines()):
            marked.append(name)
    assert marked == []
