"""Python roots under a folder each run covers with its own tmpfs are bound elsewhere."""

from __future__ import annotations

import pytest

from questlab.runner import sandbox


def test_roots_under_tmp_move_and_the_interpreter_moves_with_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        sandbox, "_python_roots", lambda: ["/root/.pyenv/versions/3.11.7", "/tmp/clone/.venv"]
    )
    monkeypatch.setattr(sandbox.sys, "executable", "/tmp/clone/.venv/bin/python")
    binds, executable = sandbox.sandbox_binds()
    assert binds == [
        ("/root/.pyenv/versions/3.11.7", "/root/.pyenv/versions/3.11.7"),
        ("/tmp/clone/.venv", "/opt/questlab-python/1"),
    ]
    assert executable == "/opt/questlab-python/1/bin/python"


def test_roots_elsewhere_keep_their_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_python_roots", lambda: ["/work/app/.venv", "/opt/python"])
    monkeypatch.setattr(sandbox.sys, "executable", "/work/app/.venv/bin/python")
    binds, executable = sandbox.sandbox_binds()
    assert binds == [("/work/app/.venv", "/work/app/.venv"), ("/opt/python", "/opt/python")]
    assert executable == "/work/app/.venv/bin/python"
