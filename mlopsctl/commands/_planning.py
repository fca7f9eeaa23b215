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


def allow_options(f: F) -> F:
    f = click.option("--allow-no-models", is_flag=True,
                     help="Plan with no model specs although models existed (removes what they made).")(f)
    f = click.option("--allow-destroy-protected", is_flag=True,
                     help="Allow deleting deployments of environments marked protected in mlops.yaml.")(f)
    return f


def render(plan: Plan, fmt: str) -> str:
    from mlopsctl.render import render as do_render

    return do_render(plan, fmt, color=options().color and sys.stdout.isatty())


def emit(text: str) -> None:
    click.echo(text.rstrip("\n"))


def start_helper(*, destroy: bool, targets: tuple[str, ...]) -> None:
    """Before a plan is computed: a second process finds the DVC facts it will need
    (:mod:`mlopsctl.pipeline.prefetch`), unless the plan reads none (destroying, or files alone)."""
    if destroy or (targets and all(t.startswith("file.") for t in targets)):
        return
    from mlopsctl.pipeline import prefetch
    from mlopsctl.workspace.paths import find_root

    try:
        root = find_root(options().cwd)
    except Exception:  # noqa: BLE001 - loading the project says what is wrong, with its own message
        return
    prefetch.start(root)


def end_helper() -> None:
    """The plan is computed: a helper still finding facts is ended, and reaped."""
    from mlopsctl.pipeline import prefetch

    prefetch.finish()


def flush_caches(ctx: Context) -> None:
    """Persist the run's memos that can be saved (digests, DVC stat facts), once the helper is ended."""
    end_helper()
    ctx.save_memos()


def write_step_summary(plan: Plan) -> None:
    """On GitHub Actions, the Markdown plan goes to the job's summary page too."""
    if os.environ.get("GITHUB_ACTIONS") != "true" or not os.environ.get("GITHUB_STEP_SUMMARY"):
        return
    from mlopsctl.ci.github import write_step_summary as append_summary
    from mlopsctl.render import render as do_render

    append_summary(do_render(plan, "markdown", color=False))


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
