"""Shared plumbing for commands: global options, finding the repository, loading specs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.specs.model import Project


@dataclass
class Options:
    directory: str | None
    color: bool
    debug: bool

    @property
    def cwd(self) -> Path:
        return Path(self.directory).resolve() if self.directory else Path.cwd()


def options() -> Options:
    ctx = click.get_current_context()
    obj = ctx.find_root().obj
    assert isinstance(obj, Options)
    return obj


def load_project() -> Project:
    """Find the repository root from the working directory and load its specs (taking those a
    helper parsed meanwhile, :mod:`mlopsctl.pipeline.prefetch`)."""
    from mlopsctl.pipeline.prefetch import parsed_specs
    from mlopsctl.specs.load import load_project as load
    from mlopsctl.workspace.paths import find_root

    root = find_root(options().cwd)
    return load(root, parsed=parsed_specs(root))


def make_context(project: Project, **kw: object) -> Context:
    from mlopsctl.core.context import Context

    return Context(root=project.root, project=project, **kw)  # type: ignore[arg-type]


def examples(*lines: str) -> str:
    """A help epilog of real invocations ("command  # why"), each why on its own line above its
    command so both fit 80 columns, kept as written (click's ``\\b`` stops rewrapping)."""
    out = []
    for line in lines:
        command, _, why = line.partition("  # ")
        out += [f"  # {why.strip()}"] if why else []
        out.append(f"  {command.strip()}")
    return "\b\nExamples:\n" + "\n".join(out)


class Group(click.Group):
    """A command group whose subcommand summaries are shown in full (click cuts them at 45
    characters), wrapped to the terminal instead."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            summary = cmd.short_help or (cmd.help or "").split("\n\n")[0]
            rows.append((name, " ".join(summary.split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def err(msg: str) -> None:
    """A line for people on stderr (stdout may carry JSON)."""
    click.echo(msg, err=True)


def find_state_dir() -> Path:
    """The repository's .mlopsctl/ folder, found without loading (or validating) the specs."""
    from mlopsctl.workspace.paths import find_root

    return find_root(options().cwd) / ".mlopsctl"
