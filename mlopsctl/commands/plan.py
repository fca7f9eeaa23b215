from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mlopsctl.commands._common import err, examples, load_project, make_context, options
from mlopsctl.commands._planning import (
    FORMATS,
    allow_options,
    emit,
    end_helper,
    flush_caches,
    render,
    start_helper,
    target_options,
    write_step_summary,
)

if TYPE_CHECKING:
    from mlopsctl.core.model import Plan
    from mlopsctl.core.planmemo import Memo
    from mlopsctl.core.reuse import Tracker


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
    make_options = {"force": force, "allow_destroy_protected": allow_destroy_protected,
                    "allow_no_models": allow_no_models}
    start_helper(destroy=destroy, targets=targets)
    memo = None if train_first else _memo(destroy=destroy, targets=targets, excludes=excludes, **make_options)
    if memo is None and not train_first and options().debug:
        from mlopsctl.core.planmemo import mode, off_reason

        if mode() == "off":
            err(f"plan memo: {off_reason()}")
    reused = memo.lookup() if memo is not None else None
    if reused is not None and memo is not None and memo.mode == "on":
        if options().debug:
            err("plan memo: reused (nothing it read has moved)")
        for line in memo.logs:
            err(line)
        _show(reused, fmt, out, force, detailed_exitcode)
        return
    # Imported only to compute: a reused plan is shown without the planning machinery.
    from mlopsctl.core.plan import compute_plan
    from mlopsctl.core.reuse import Tracker


    tracker = Tracker(memo.kept) if memo is not None else None
    with memo.recording() if memo is not None else contextlib.nullcontext(None) as tee:
        ctx = make_context(load_project(), **make_options)
        if tee is not None:
            ctx.log = _tee(ctx.log, tee)
        the_plan = compute_plan(ctx, targets=targets, excludes=excludes, destroy=destroy, tracker=tracker)
    if memo is not None and tracker is not None:
        if tracker.reused and memo.mode == "verify":
            _verify_partial(the_plan, memo.logs, targets, excludes, destroy, **make_options)
        _settle(memo, reused, the_plan, tracker, {n: d.path for n, d in ctx.project.models.items()})
    end_helper()  # before training starts workers: the plan no longer asks for facts
    if train_first and not destroy:
        from mlopsctl.training.candidates import TrainedCandidates, stages_to_train, train_candidates

        if stages_to_train(the_plan):
            trained, notes = train_candidates(ctx, the_plan)
            flush_caches(ctx)
            # A new run: every fact (outputs, digests, registry) is read again after training.
            ctx = make_context(load_project(), **make_options)
            ctx.memo(TrainedCandidates, lambda: TrainedCandidates(set(trained), notes))
            the_plan = compute_plan(ctx, targets=targets, excludes=excludes, destroy=destroy)
    flush_caches(ctx)
    _show(the_plan, fmt, out, force, detailed_exitcode)


def _show(the_plan: Plan, fmt: str, out: str | None, force: bool, detailed_exitcode: bool) -> None:
    from mlopsctl.core import planfile
    from mlopsctl.errors import MlopsError

    emit(render(the_plan, fmt))
    write_step_summary(the_plan)
    if out:
        planfile.save(the_plan, Path(out))
        err(f"Saved the plan to {out}. Apply exactly this plan with: mlopsctl apply {out}")
    blocked = the_plan.refused(force)
    if blocked:
        # A plan that apply would refuse fails, so a pull-request check goes red before the merge.
        names = ", ".join(c.address for c in blocked)
        raise MlopsError(f"apply would refuse {len(blocked)} blocked change(s): {names} (reasons in the plan above)")
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(2)


def _memo(**plan_options: object) -> Memo | None:
    """The plan memo for this repository and these options (the format only renders a plan)."""
    from mlopsctl.core.planmemo import Memo
    from mlopsctl.workspace.paths import find_root

    try:
        root = find_root(options().cwd)
    except Exception:  # noqa: BLE001 - load_project says what is wrong, with its own message
        return None
    return Memo.open(root, plan_options)


def _tee(say: Callable[[str], None], keep: Callable[[str], None]) -> Callable[[str], None]:
    def both(line: str) -> None:
        keep(line)
        say(line)

    return both


def _settle(memo: Memo, reused: Plan | None, computed: Plan, tracker: Tracker, specs: dict[str, str]) -> None:
    """Keep the computed plan; with ``MLOPSCTL_PLAN_MEMO=verify``, fail if the reused one differs."""
    from mlopsctl.core.planmemo import differences

    if options().debug and memo.moved:
        err(f"plan memo: {memo.moved}")
        if memo.kept is not None:
            err(f"plan memo: {len(tracker.reused)} of {len(computed.changes)} changes taken from the kept plan")
    if reused is not None:
        diffs = differences(reused, computed)
        if diffs:
            raise RuntimeError("the plan memo reused a plan that differs from the computed one:\n  "
                               + "\n  ".join(diffs[:20]))
    memo.keep(computed, tracker, specs)


def _verify_partial(partly: Plan, said: list[str], targets: tuple[str, ...], excludes: tuple[str, ...],
                    destroy: bool, **make_options: bool) -> None:
    """``MLOPSCTL_PLAN_MEMO=verify``: compute the plan without reusing anything; fail on any
    difference, in the plan or in the lines it says to people."""
    from mlopsctl.core.plan import compute_plan
    from mlopsctl.core.planmemo import differences

    ctx = make_context(load_project(), **make_options)
    lines: list[str] = []
    ctx.log = lines.append  # said once already
    whole = compute_plan(ctx, targets=targets, excludes=excludes, destroy=destroy)
    diffs = differences(partly, whole) + ([f"lines said: {said!r:.300} != {lines!r:.300}"] if said != lines else [])
    if diffs:
        raise RuntimeError("the plan memo reused changes that differ from the computed ones:\n  "
                           + "\n  ".join(diffs[:20]))
