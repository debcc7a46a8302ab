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


def _fake_install(tmp_path, monkeypatch: pytest.MonkeyPatch, *, venv: bool = True, shared: bool = True):
    """A base installation at tmp_path/base (libpython when ``shared``), a virtualenv at tmp_path/venv."""
    base, env = tmp_path / "base", tmp_path / "venv"
    (base / "bin").mkdir(parents=True)
    (base / "bin" / "python3.11").write_text("")
    (base / "lib").mkdir()
    if shared:
        (base / "lib" / "libpython3.11.so.1.0").write_text("")
    site = env / "lib" / "python3.11" / "site-packages"
    (site / "questlab-0.1.0.dist-info").mkdir(parents=True)
    (site / "questlab-0.1.0.dist-info" / "direct_url.json").write_text('{"url": "file:///home/me/questlab"}')
    (site / "__editable___questlab_0_1_0_finder.py").write_text("MAPPING = {'questlab': '/home/me/questlab'}")
    (env / "pyvenv.cfg").write_text(
        f"home = {base}/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n"
        f"executable = {base}/bin/python3.11\ncommand = {base}/bin/python3.11 -m venv {env}\n"
    )
    (env / "bin").mkdir()
    monkeypatch.setattr(sandbox.sys, "base_prefix", str(base))
    monkeypatch.setattr(sandbox.sys, "prefix", str(env if venv else base))
    monkeypatch.setattr(sandbox.sys, "executable", str((env if venv else base) / "bin" / "python3.11"))
    if venv:
        (env / "bin" / "python3.11").symlink_to(base / "bin" / "python3.11")
    return base, env


def test_neutral_layout_moves_python_the_venv_and_the_package(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, env = _fake_install(tmp_path, monkeypatch)
    layout = sandbox.neutral_layout()
    assert layout.layers == [
        (str(base), "/opt/questlab/python"),
        (sandbox.PACKAGE_ROOT + "/questlab", "/opt/questlab/questlab"),
        (str(env), "/opt/questlab/venv"),
    ]
    assert layout.executable == "/opt/questlab/venv/bin/python3"
    assert layout.python_link == "/opt/questlab/python/bin/python3.11"
    assert layout.env == {"LD_LIBRARY_PATH": "/opt/questlab/python/lib"}  # libpython by a moved RUNPATH
    assert layout.top["pyvenv.cfg"] == (
        "home = /opt/questlab/python/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n"
    )
    # Files that name the host's checkout are covered by empty ones.
    assert layout.top["lib/python3.11/site-packages/__editable___questlab_0_1_0_finder.py"] == ""
    assert layout.top["lib/python3.11/site-packages/questlab-0.1.0.dist-info/direct_url.json"] == ""
    assert str(tmp_path) not in sandbox._layer_script(layout, [layout.executable]).split("exec ")[1]


def test_neutral_layout_without_a_venv_or_with_python_under_usr(tmp_path, monkeypatch) -> None:
    base, _ = _fake_install(tmp_path, monkeypatch, venv=False, shared=False)
    layout = sandbox.neutral_layout()
    assert layout.executable == "/opt/questlab/python/bin/python3.11"
    assert layout.python_link is None and layout.top == {} and layout.env == {}
    _, env = _fake_install(tmp_path / "x", monkeypatch)
    monkeypatch.setattr(sandbox.sys, "base_prefix", "/usr")
    monkeypatch.setattr(
        sandbox.os.path, "realpath", lambda p: "/usr/bin/python3.11" if "python3.11" in p else p
    )
    layout = sandbox.neutral_layout()
    assert [dest for _, dest in layout.layers] == ["/opt/questlab/questlab", "/opt/questlab/venv"]
    assert layout.python_link == "/usr/bin/python3.11" and layout.top["pyvenv.cfg"].startswith(
        "home = /usr/bin\n"
    )


def test_layer_script_stacks_each_layer_and_unbinds_it(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_install(tmp_path, monkeypatch)
    layout = sandbox.neutral_layout()
    script = sandbox._layer_script(layout, [layout.executable, "-I"])
    lines = script.splitlines()
    assert lines[0] == "set -e"  # a failed overlay stops the start: the service then binds host paths
    mounts = [line for line in lines if line.startswith("mount -t overlay")]
    assert mounts[-1].endswith(
        "lowerdir=/opt/questlab/.layers/venv-top:/opt/questlab/.layers/2 /opt/questlab/venv"
    )
    assert [line for line in lines if line.startswith("umount -l")] == [
        f"umount -l /opt/questlab/.layers/{n}" for n in range(3)
    ]
    assert lines[-1] == "exec /opt/questlab/venv/bin/python3 -I"


def test_the_configuration_is_sent_not_an_argument() -> None:
    config = {"isolated": False, "uid_base": 100_000}
    argv = sandbox.plain_command(config)
    assert not any("uid_base" in arg for arg in argv)
    frame = sandbox.config_frame(config)
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4 and b"uid_base" in frame
