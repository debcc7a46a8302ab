"""The command line: check, db upgrade, settings, and serve's refusal to go public without a sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from questlab.cli import app, is_loopback
from questlab.settings import REPO_DIR, Settings
from tests.helpers import valid_files, write_tree

runner = CliRunner()


def test_check_passes_on_valid_content(tmp_path: Path):
    write_tree(tmp_path / "q", valid_files())
    result = runner.invoke(app, ["check", str(tmp_path), "--no-run"])
    assert result.exit_code == 0, result.output
    assert "1 quest(s), 3 lesson(s): 0 error(s)" in result.output


def test_check_fails_with_file_and_line(tmp_path: Path):
    files = valid_files()
    files["01-basics/02-second/lesson.ko.md"] = "---\ntitle: x\nminutes: lots\n---\n"
    write_tree(tmp_path / "q", files)
    result = runner.invoke(app, ["check", str(tmp_path), "--no-run"])
    assert result.exit_code == 1
    assert "q/01-basics/02-second/lesson.ko.md:3" in result.output.replace("\n", "")
    assert "'minutes'" in result.output


def test_check_strict_fails_on_warnings(tmp_path: Path):
    files = valid_files()
    files["01-basics/02-second/lesson.ko.md"] = (
        "---\ntitle: x\nminutes: 3\nstatus: published\ncolor: red\n---\n"
    )
    write_tree(tmp_path / "q", files)
    assert runner.invoke(app, ["check", str(tmp_path), "--no-run"]).exit_code == 0
    assert runner.invoke(app, ["check", str(tmp_path), "--no-run", "--strict"]).exit_code == 1


@pytest.mark.timeout(1200)  # every block and every exercise of the quest, for real
def test_bundled_quest_checks_clean():
    """Every file validates, every block prints what its lesson documents, every solution passes its
    checks and every starter fails one: the lessons' claims are executed against real PyTorch."""
    result = runner.invoke(app, ["check", str(REPO_DIR / "quests" / "pytorch"), "--strict"])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output and "as documented" in result.output


def test_db_upgrade_creates_sqlite(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("QUESTLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("QUESTLAB_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "questlab.sqlite3").is_file()


def test_settings_lists_every_setting():
    result = runner.invoke(app, ["settings"])
    assert result.exit_code == 0
    for name in Settings.model_fields:
        assert f"QUESTLAB_{name.upper()}" in result.output


def test_every_setting_is_described_and_in_the_readme():
    readme = (REPO_DIR / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"QUESTLAB_{name.upper()}" in readme, f"README does not document QUESTLAB_{name.upper()}"


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")


def test_serve_refuses_public_address_without_sandbox(monkeypatch):
    monkeypatch.setenv("QUESTLAB_SANDBOX", "none")
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--no-migrate"])
    assert result.exit_code == 2
    assert "Refusing to listen on 0.0.0.0" in result.output.replace("\n", " ")


def test_serve_on_a_public_address_requires_the_sandbox(monkeypatch):
    """Public and sandboxable: the app is built with sandbox='bwrap', so a failed sandbox stops it."""
    import uvicorn

    from questlab.runner import sandbox

    seen = {}
    monkeypatch.setenv("QUESTLAB_SANDBOX", "auto")
    monkeypatch.setattr(sandbox, "probe_bwrap", lambda: None)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, host=kw["host"]))
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--no-migrate"])
    assert result.exit_code == 0, result.output
    assert seen["host"] == "0.0.0.0"
    assert seen["app"].state.settings.sandbox == "bwrap"
    seen.clear()
    result = runner.invoke(app, ["serve", "--host", "127.0.0.1", "--no-migrate"])
    assert result.exit_code == 0, result.output
    assert seen["app"].state.settings.sandbox == "auto"
