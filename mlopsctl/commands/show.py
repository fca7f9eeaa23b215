from __future__ import annotations

from pathlib import Path

import click

from mlopsctl.commands._common import examples
from mlopsctl.commands._planning import FORMATS, emit, render


@click.command(epilog=examples(
    "mlopsctl show plan.json  # the saved plan, as plan printed it",
    "mlopsctl show plan.json --format json | jq '.resource_changes[].address'  # for scripts",
))
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True,
              help="text for people, markdown for a pull request, json (terraform show -json's shape).")
def show(planfile: str | None, fmt: str) -> None:
    """Render a saved plan (or, without one, the current plan)."""
    if planfile:
        from mlopsctl.core import planfile as pf

        emit(render(pf.load(Path(planfile)), fmt))
        return
    from mlopsctl.commands._common import load_project, make_context
    from mlopsctl.commands._planning import flush_caches
    from mlopsctl.core.plan import compute_plan

    ctx = make_context(load_project())
    the_plan = compute_plan(ctx)
    flush_caches(ctx)
    emit(render(the_plan, fmt))
