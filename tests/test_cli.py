"""The command line explains itself: every command, action and argument has a description."""

from __future__ import annotations

import argparse

import pytest

from reformwh import cli


def the_parser(monkeypatch) -> argparse.ArgumentParser:
    captured = {}

    def capture(self, args=None, namespace=None):
        captured["parser"] = self
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(SystemExit):
        cli.main(["demo"])
    return captured["parser"]


def test_every_command_and_argument_has_a_help_text(monkeypatch):
    parser = the_parser(monkeypatch)
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    undescribed = [c.dest for c in commands._choices_actions if not c.help]
    for name, sub in commands.choices.items():
        undescribed += [f"{name} {a.dest}" for a in sub._actions
                        if not isinstance(a, argparse._HelpAction) and not a.help]
    assert undescribed == []
    warehouse = commands.choices["warehouse"]
    for action in ("start", "stop", "status", "url"):
        assert f"  {action} " in warehouse.description
    [role] = [a for a in warehouse._actions if a.dest == "role"]
    assert role.choices == ["bi", "staff", "admin"] and role.default == "admin"


def test_dev_py_installs_only_when_the_lock_project_or_options_change(monkeypatch, tmp_path):
    """`python3 dev.py …` syncs .venv (and says "Installing …") only when its stamp differs."""
    import importlib.util

    from reformwh.settings import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location("dev_script", PROJECT_ROOT / "dev.py")
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    root = tmp_path / "clone"
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "reformwh").write_text("")
    for name in ("uv.lock", "pyproject.toml"):
        (root / name).write_bytes((PROJECT_ROOT / name).read_bytes())
    monkeypatch.setattr(dev, "ROOT", root)
    monkeypatch.setattr(dev, "STAMP", root / ".venv" / ".reformwh-installed")
    stamp = dev.install_stamp([])
    assert not dev._installed(stamp)  # never installed by dev.py
    dev.STAMP.write_text(stamp)
    assert dev._installed(dev.install_stamp([]))
    assert not dev._installed(dev.install_stamp(["--group", "production", "--no-dev"]))
    (root / "uv.lock").write_text((root / "uv.lock").read_text() + "\n# changed\n")
    assert not dev._installed(dev.install_stamp([]))
