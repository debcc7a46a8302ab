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


def _imports(path) -> set[str]:  # type: ignore[no-untyped-def]
    """Every ``questlab.*`` module a file imports, lazily or not."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("questlab"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("questlab"))
    return found


def test_web_modules_import_no_circle():
    """pages, community pages and APIs share questlab.web.pagekit instead of importing each other."""
    web = REPO_DIR / "questlab" / "web"
    graph = {
        f"questlab.web.{p.stem}": {m for m in _imports(p) if m.startswith("questlab.web.")}
        for p in web.glob("*.py")
    }

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for dep in graph.get(start, ()):
            if dep == goal or (dep not in seen and reaches(dep, goal, seen | {dep})):
                return True
        return False

    circular = sorted(m for m in graph if reaches(m, m, {m}))
    assert not circular, f"import circle through {circular}"


def test_the_judge_never_imports_the_sandbox_side():
    """Verdicts are made by code that shares nothing with what runs in the learner's process."""
    judge = REPO_DIR / "questlab" / "grading" / "judge"
    offenders = {
        p.name: m for p in judge.glob("*.py") for m in _imports(p) if m.startswith("questlab.grading.sandbox")
    }
    assert not offenders, offenders
    sandbox = REPO_DIR / "questlab" / "grading" / "sandbox"
    allowed = {m for p in sandbox.glob("*.py") for m in _imports(p)} - {
        f"questlab.grading.sandbox{s}" for s in ("", ".inputs", ".wire", ".observe", ".driver")
    }
    assert not allowed, f"the sandbox side may only import itself (it travels alone): {allowed}"
