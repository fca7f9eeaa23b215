"""Help that teaches: every command's --help has examples of real use, every option a help text,
summaries in full; the texts are snapshots (tests/commands/snapshots/help/), reviewed like code.

Set ``MLOPSCTL_UPDATE_SNAPSHOTS=1`` to rewrite them after an intended change, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mlopsctl.cli import cli

SNAPSHOTS = Path(__file__).parent / "snapshots" / "help"


def _commands() -> list[tuple[str, ...]]:
    ctx = click.Context(cli)
    found: list[tuple[str, ...]] = [()]
    for name in cli.list_commands(ctx):
        cmd = cli.get_command(ctx, name)
        found.append((name,))
        if isinstance(cmd, click.Group):
            found += [(name, sub) for sub in cmd.list_commands(ctx)]
    return found


def _command(path: tuple[str, ...]) -> click.Command:
    cmd: click.Command = cli
    for name in path:
        assert isinstance(cmd, click.Group)
        found = cmd.get_command(click.Context(cmd), name)
        assert found is not None
        cmd = found
    return cmd


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="mlopsctl")
    assert result.exit_code == 0, result.output
    return result.output


COMMANDS = _commands()


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "mlopsctl")
def test_help_snapshot(path: tuple[str, ...]) -> None:
    text = _help(path)
    snapshot = SNAPSHOTS / f"{'-'.join(path) or 'mlopsctl'}.txt"
    if os.environ.get("MLOPSCTL_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.exists(), f"{snapshot} is missing (MLOPSCTL_UPDATE_SNAPSHOTS=1 writes it)"
    assert text == snapshot.read_text(encoding="utf-8"), f"--help differs from {snapshot}"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "mlopsctl")
def test_help_teaches(path: tuple[str, ...]) -> None:
    text = _help(path)
    examples = text.split("Examples:\n", 1)
    assert len(examples) == 2, "no examples"
    lines = [line.strip() for line in examples[1].splitlines() if line.strip().startswith(("mlopsctl ", "GITHUB_"))]
    assert 1 <= len(lines) <= 2, lines
    assert all(len(line) <= 80 for line in text.splitlines()), "help must fit 80 columns"
    # The examples name this very command (the group's examples name its subcommands).
    assert all(" ".join(("mlopsctl", *path)) in line for line in lines) or not path
    cmd = _command(path)
    for param in cmd.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{param.opts} has no help text"
    if "Commands:" in text:
        assert "..." not in text.split("Commands:", 1)[1].split("Examples:")[0], "a summary is cut"
