"""``mlopsctl validate``: check the specs and report every problem with its location.

Cheap on purpose (no dvc, docker, sklearn or git imports) so it can run as a pre-commit hook
or the first CI step; in GitHub Actions each problem also becomes an annotation on the line.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from mlopsctl.commands._common import options
from mlopsctl.errors import Problem


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: {\"valid\": ..., \"problems\": [...]} on stdout.")
def validate(fmt: str) -> None:
    """Check the specs; report every problem with its location."""
    from mlopsctl.core.specs import collect_problems, find_root

    root = find_root(options().cwd)
    project, problems = collect_problems(root)
    if fmt == "json":
        click.echo(json.dumps({"valid": not problems, "problems": [p.to_dict() for p in problems]}, indent=2))
    elif problems:
        for p in problems:
            click.echo(p.format() + "\n")
        n = len(problems)
        files = len({p.location.file for p in problems})
        click.echo(f"{n} problem{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}.")
        if os.environ.get("GITHUB_ACTIONS") == "true":
            for p in problems:
                click.echo(annotation(p, root))
    else:
        models = len(project.models) if project is not None else 0
        click.echo(f"OK: 1 project, {models} model{'s' if models != 1 else ''}")
    if problems:
        sys.exit(1)


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def annotation(p: Problem, root: Path) -> str:
    """A GitHub Actions ``::error`` workflow command that marks the problem's line in the PR."""
    file = p.location.file
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        # Annotations name files relative to the checkout, which may be above the mlopsctl root.
        full = root / file
        try:
            file = full.relative_to(Path(workspace).resolve()).as_posix()
        except ValueError:
            pass
    props = [f"file={_escape_property(file)}"]
    if p.location.line is not None:
        props.append(f"line={p.location.line}")
    if p.location.column is not None:
        props.append(f"col={p.location.column}")
    text = f"{p.path}: {p.message}" if p.path else p.message
    if p.hint:
        text += f" ({p.hint})"
    return f"::error {','.join(props)}::{_escape_data(text)}"
