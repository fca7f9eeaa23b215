"""``mlopsctl validate``: check the specs and report every problem with its location.

Cheap on purpose (no dvc, docker, sklearn or git imports) so it can run as a pre-commit hook
or the first CI step; in GitHub Actions each problem also becomes an annotation on the line.
"""

from __future__ import annotations

import json
import os
import sys

import click

from mlopsctl.commands._common import examples, options


@click.command(epilog=examples(
    "mlopsctl validate  # every problem, each with file:line:column",
    "mlopsctl validate --format json | jq '.problems[].message'  # for scripts",
))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: {\"valid\": ..., \"problems\": [...]} on stdout.")
def validate(fmt: str) -> None:
    """Check the specs; report every problem with its location."""
    from mlopsctl.specs.load import collect_problems
    from mlopsctl.workspace.paths import find_root

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
            from mlopsctl.ci.annotations import format_annotations

            click.echo(format_annotations(problems, root=root), nl=False)
    else:
        models = len(project.models) if project is not None else 0
        click.echo(f"OK: 1 project, {models} model{'s' if models != 1 else ''}")
    if problems:
        sys.exit(1)
