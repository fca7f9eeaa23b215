from __future__ import annotations

import sys
from pathlib import Path

import click

from mlopsctl.commands._common import err, examples, load_project, make_context
from mlopsctl.commands._planning import (
    FORMATS,
    allow_options,
    emit,
    flush_caches,
    render,
    target_options,
    write_step_summary,
)


@click.command(epilog=examples(
    "mlopsctl plan -o plan.json  # save it; `mlopsctl apply plan.json` carries out exactly this",
    "mlopsctl plan --target 'stage.*' --detailed-exitcode  # the training stages; exit 2 if they change",
))
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Save the plan to apply it later as is.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True,
              help="text for people, markdown for a pull request, json (terraform show -json's shape).")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0: none, 1: error).")
@click.option("--destroy", is_flag=True, help="Plan removing everything mlopsctl created.")
@click.option("--force", is_flag=True, help="Plan overwriting hand edits and unmanaged files (backups are kept).")
@click.option("--train", "train_first", is_flag=True,
              help="Train what the change retrains (registering nothing) and show the candidates' metrics, "
                   "deltas and gate verdicts.")
@target_options
@allow_options
def plan(out: str | None, fmt: str, detailed_exitcode: bool, destroy: bool, force: bool, train_first: bool,
         targets: tuple[str, ...], excludes: tuple[str, ...], allow_destroy_protected: bool,
         allow_no_models: bool) -> None:
    """Show what apply would change, and why."""
    from mlopsctl.core import planfile
    from mlopsctl.core.plan import blocked_changes, compute_plan
    from mlopsctl.errors import MlopsError

    ctx = make_context(load_project(), force=force, allow_destroy_protected=allow_destroy_protected,
                       allow_no_models=allow_no_models)
    the_plan = compute_plan(ctx, targets=targets, excludes=excludes, destroy=destroy)
    if train_first and not destroy:
        from mlopsctl.training.candidates import TrainedCandidates, stages_to_train, train_candidates

        if stages_to_train(the_plan):
            trained, notes = train_candidates(ctx, the_plan)
            flush_caches(ctx)
            # A new run: every fact (outputs, digests, registry) is read again after training.
            ctx = make_context(load_project(), force=force, allow_destroy_protected=allow_destroy_protected,
                               allow_no_models=allow_no_models)
            ctx.memo(TrainedCandidates, lambda: TrainedCandidates(set(trained), notes))
            the_plan = compute_plan(ctx, targets=targets, excludes=excludes, destroy=destroy)
    flush_caches(ctx)
    emit(render(the_plan, fmt))
    write_step_summary(the_plan)
    if out:
        planfile.save(the_plan, Path(out))
        err(f"Saved the plan to {out}. Apply exactly this plan with: mlopsctl apply {out}")
    blocked = blocked_changes(the_plan, force)
    if blocked:
        # A plan that apply would refuse fails, so a pull-request check goes red before the merge.
        names = ", ".join(c.address for c in blocked)
        raise MlopsError(f"apply would refuse {len(blocked)} blocked change(s): {names} (reasons in the plan above)")
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(2)
