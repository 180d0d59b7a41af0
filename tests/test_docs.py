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
    assert "kg build tests/data/ctgov_v2/studies tests/data/seeds/*.txt --output sample.ttl" in README
    assert "kg build tests/data/ctgov_v2/studies tests/data/seeds/*.txt --output sample.ttl" in ci
    assert "python -m pytest" in README and "python -m pytest" in ci


def test_the_readme_main_job_succeeds(tmp_path: Path) -> None:
    """The quick-start build of the bundled sample records finishes with exit status 0."""
    from click.testing import CliRunner

    seeds = sorted(str(p) for p in (ROOT / "tests" / "data" / "seeds").glob("*.txt"))
    out = tmp_path / "sample.ttl"
    result = CliRunner().invoke(main, ["build", str(ROOT / "tests/data/ctgov_v2/studies"), *seeds,
                                       "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "19 records built" in result.output and out.stat().st_size > 0
