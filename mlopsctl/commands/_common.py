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
    """Find the repository root from the working directory and load its specs."""
    from mlopsctl.specs.load import find_root
    from mlopsctl.specs.load import load_project as load

    return load(find_root(options().cwd))


def make_context(project: Project, **kw: object) -> Context:
    from mlopsctl.core.context import Context

    return Context(root=project.root, project=project, **kw)  # type: ignore[arg-type]


def err(msg: str) -> None:
    """A line for people on stderr (stdout may carry JSON)."""
    click.echo(msg, err=True)


def find_state_dir() -> Path:
    """The repository's .mlopsctl/ folder, found without loading (or validating) the specs."""
    from mlopsctl.specs.load import find_root

    return find_root(options().cwd) / ".mlopsctl"
