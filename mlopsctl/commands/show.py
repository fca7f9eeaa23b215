from __future__ import annotations

from pathlib import Path

import click

from mlopsctl.commands._planning import FORMATS, emit, render


@click.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
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
