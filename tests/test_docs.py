"""The README documents every command, and its quick-start commands are the ones CI runs."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from kg.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "kg") -> list[str]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        out += _commands(cmd, full) if isinstance(cmd, click.Group) else [full]
    return out


@pytest.mark.parametrize("command", _commands(main))
def test_every_command_is_documented_with_an_example(command: str) -> None:
    assert f"### `{command}`" in README, f"README has no section for {command}"
    cmd = main
    for part in command.split()[1:]:
        cmd = cmd.commands[part]  # type: ignore[attr-defined]
    assert "Example:" in (cmd.help or ""), f"{command} --help shows no example"


def test_ci_runs_the_readme_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install --quiet '.[test]'" in ci and "pip install '.[test]'" in README
    assert "kg build tests/data/ctgov_v2/studies tests/data/seeds --output sample.ttl" in README
    assert "kg build tests/data/ctgov_v2/studies tests/data/seeds --output sample.ttl" in ci
    assert "python -m pytest" in README and "python -m pytest" in ci
