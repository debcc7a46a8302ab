"""scripts/serve and scripts/system-packages on a machine without bubblewrap, with stand-ins for
``id``, ``sudo`` and ``apt-get`` (nothing is installed for real)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from questlab.settings import REPO_DIR

STUBS = {
    "id": '#!/bin/sh\necho "${FAKE_UID:-0}"\n',
    "sudo": '#!/bin/sh\n[ -n "$FAKE_SUDO" ] || exit 1\n[ "$1" = -n ] && shift\n"$@"\n',
    "apt-get": (
        '#!/bin/sh\necho "apt-get $*" >> "$FAKE_LOG"\n'
        'case "$*" in *install*bubblewrap*) printf "#!/bin/sh\\n" > "$FAKE_BIN/bwrap";'
        ' chmod +x "$FAKE_BIN/bwrap";; esac\n'
    ),
}
TOOLS = ("bash", "sh", "dirname", "cat", "sha256sum", "cut", "chmod", "printf", "env")


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """A copy of the scripts with a fake set-up, a fake ``questlab`` and a PATH without bwrap."""
    root, fake_bin, log = tmp_path / "clone", tmp_path / "bin", tmp_path / "log"
    (root / "scripts").mkdir(parents=True)
    for name in ("serve", "system-packages"):
        shutil.copy(REPO_DIR / "scripts" / name, root / "scripts" / name)
    (root / "scripts" / "setup").write_text('#!/bin/sh\necho setup >> "$FAKE_LOG"\n')
    (root / "questlab").symlink_to(REPO_DIR / "questlab")
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (root / ".venv" / "bin" / "questlab").write_text('#!/bin/sh\necho "questlab $*" >> "$FAKE_LOG"\n')
    fake_bin.mkdir()
    for name, text in STUBS.items():
        (fake_bin / name).write_text(text)
    for path in [*root.rglob("scripts/*"), root / ".venv/bin/questlab", *fake_bin.iterdir()]:
        path.chmod(0o755)
    for tool in TOOLS:
        (fake_bin / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    log.write_text("")
    return {"root": root, "bin": fake_bin, "log": log}


def _run(tree: dict[str, Path], script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": str(tree["bin"]),
        "FAKE_BIN": str(tree["bin"]),
        "FAKE_LOG": str(tree["log"]),
        "PYTHON": sys.executable,
        "QUESTLAB_SANDBOX": "auto",
        **env,
    }
    return subprocess.run(
        ["/bin/bash", str(tree["root"] / "scripts" / script), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_installs_bubblewrap_as_root(tree: dict[str, Path]) -> None:
    out = _run(tree, "serve", "--port", "8123")
    assert out.returncode == 0, out.stderr
    log = tree["log"].read_text().splitlines()
    assert log[:2] == ["apt-get update -qq", "apt-get install -y -qq bubblewrap"]  # not chromium
    assert "setup" in log and log[-1] == "questlab serve --port 8123"


def test_serve_installs_bubblewrap_with_sudo(tree: dict[str, Path]) -> None:
    out = _run(tree, "serve", FAKE_UID="1000", FAKE_SUDO="1")
    assert out.returncode == 0, out.stderr
    assert "apt-get install -y -qq bubblewrap" in tree["log"].read_text()


def test_serve_stops_with_one_sentence_when_it_may_not_install(tree: dict[str, Path]) -> None:
    out = _run(tree, "serve", FAKE_UID="1000")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    sentence = lines[0]
    assert "sudo apt-get install bubblewrap" in sentence
    assert "--unsafe-no-sandbox" in sentence and "QUESTLAB_SANDBOX=none" in sentence
    assert tree["log"].read_text() == ""  # stopped before set-up


@pytest.mark.parametrize(
    ("args", "env"), [(("--unsafe-no-sandbox",), {}), ((), {"QUESTLAB_SANDBOX": "none"})]
)
def test_serve_without_a_sandbox_on_purpose(tree: dict[str, Path], args: tuple[str, ...], env: dict) -> None:
    out = _run(tree, "serve", *args, FAKE_UID="1000", **env)
    assert out.returncode == 0, out.stderr
    log = tree["log"].read_text().splitlines()
    assert not [line for line in log if line.startswith("apt-get")]
    assert log == ["setup", f"questlab serve {' '.join(args)}".rstrip()]


def test_system_packages_names_what_to_install(tree: dict[str, Path]) -> None:
    out = _run(tree, "system-packages", FAKE_UID="1000")
    assert out.returncode == 3
    assert "sudo apt-get install bubblewrap chromium" in out.stderr
    (tree["bin"] / "bwrap").write_text("#!/bin/sh\n")
    (tree["bin"] / "bwrap").chmod(0o755)
    assert _run(tree, "system-packages", "bubblewrap", FAKE_UID="1000").returncode == 0


def test_setup_shows_progress_and_the_license_is_spdx() -> None:
    setup = (REPO_DIR / "scripts" / "setup").read_text()
    assert "--quiet" not in setup
    project = tomllib.loads((REPO_DIR / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"  # an SPDX expression, not the deprecated table
    assert "License ::" not in " ".join(project.get("classifiers", []))


def test_serve_advice_says_what_to_do() -> None:
    from questlab.runner import sandbox

    assert "sudo scripts/serve" in sandbox.serve_advice(sandbox.NOT_ROOT)
    assert "--unsafe-no-sandbox" in sandbox.serve_advice("cgroup v1 controller 'memory' is not mounted")
    assert os.access(REPO_DIR / "scripts" / "serve", os.X_OK)
