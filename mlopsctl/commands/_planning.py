"""Options and steps that plan, apply, show and destroy share."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mlopsctl.commands._common import options

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.core.model import Plan

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = click.Choice(["text", "markdown", "json"])


def target_options(f: F) -> F:
    f = click.option("--exclude", "excludes", multiple=True, metavar="ADDR",
                     help="Leave out resources matching ADDR (and what depends on them).")(f)
    f = click.option("--target", "targets", multiple=True, metavar="ADDR",
                     help="Only resources matching ADDR (address, prefix or glob) and what they need.")(f)
    return f


def render(plan: Plan, fmt: str) -> str:
    from mlopsctl.render import render as do_render

    return do_render(plan, fmt, color=options().color and sys.stdout.isatty())


def emit(text: str) -> None:
    click.echo(text.rstrip("\n"))


def flush_caches(ctx: Context) -> None:
    """Persist per-run caches (digests, specs) that providers put in ctx.cache."""
    for value in list(ctx.cache.values()):
        save = getattr(value, "save", None)
        if callable(save):
            save()


def write_step_summary(plan: Plan) -> None:
    """On GitHub Actions, the Markdown plan goes to the job's summary page too."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if os.environ.get("GITHUB_ACTIONS") != "true" or not path:
        return
    from mlopsctl.render import render as do_render

    with open(path, "a", encoding="utf-8") as f:
        f.write(do_render(plan, "markdown", color=False) + "\n")


def confirm(question: str) -> None:
    """Interactive yes; without a terminal this is an error, never a silent yes."""
    from mlopsctl.errors import ConfirmationError

    if not sys.stdin.isatty():
        raise ConfirmationError(
            "apply needs a confirmation, but standard input is not a terminal; "
            "review the plan and rerun with --auto-approve (or apply a saved plan file)"
        )
    answer = click.prompt(f"{question}\n  Only 'yes' will be accepted", default="", show_default=False, err=True)
    if answer.strip() != "yes":
        raise ConfirmationError("cancelled; nothing was changed")
