from __future__ import annotations

import time
from pathlib import Path

import click

from mlopsctl.commands._common import err, examples, load_project, make_context, options
from mlopsctl.commands._planning import (
    allow_options,
    confirm,
    emit,
    flush_caches,
    render,
    start_helper,
    target_options,
)


def run_apply(*, planfile_path: str | None, auto_approve: bool, targets: tuple[str, ...], excludes: tuple[str, ...],
              lock_timeout: float, force: bool, destroy: bool = False, destroy_images: bool = False,
              allow_destroy_protected: bool = False, allow_no_models: bool = False, parallelism: int = 0) -> None:
    """Plan (or load a saved plan), confirm, and execute under the lock."""
    from mlopsctl.core import planfile
    from mlopsctl.core.apply import execute
    from mlopsctl.core.lock import ApplyLock
    from mlopsctl.core.plan import check_fresh, compute_plan
    from mlopsctl.core.state import Journal
    from mlopsctl.errors import MlopsError

    if planfile_path and (targets or excludes):
        raise MlopsError("a saved plan already fixes what it changes; --target/--exclude go with `mlopsctl plan`")
    if planfile_path and (allow_destroy_protected or allow_no_models):
        raise MlopsError("a saved plan already fixes what it allows; --allow-* options go with `mlopsctl plan`")
    start_helper(destroy=destroy, targets=targets)
    ctx = make_context(load_project(), force=force, allow_destroy_protected=allow_destroy_protected,
                       allow_no_models=allow_no_models, parallelism=parallelism)
    ctx.destroy_images = destroy_images
    command = "mlopsctl destroy" if destroy else "mlopsctl apply"
    journal = Journal(ctx.state_dir, command=command.split()[1])
    trail = Trail(ctx.root, journal)
    try:
        with ApplyLock(ctx.state_dir, command, timeout=lock_timeout):
            if planfile_path:
                # Never the file's changes: the plan computed now, and only if it equals the reviewed one.
                saved, integrity = planfile.read(Path(planfile_path))
                the_plan = check_fresh(ctx, saved, integrity=integrity)
                ctx.force = ctx.force or force
            else:
                the_plan = compute_plan(ctx, targets=targets, excludes=excludes, destroy=destroy)
            trail.plan = the_plan
            flush_caches(ctx)
            emit(render(the_plan, "text"))
            if not the_plan.has_changes:
                trail.status = "no changes"
                return
            blocked = the_plan.refused(force)
            if blocked:
                lines = "\n".join(f"  - {c.address}: {c.blocked}" for c in blocked)
                raise MlopsError(f"{len(blocked)} change(s) are blocked, so nothing was applied:\n{lines}")
            if not (auto_approve or planfile_path):
                confirm("Do you want to perform these actions?")
            trail.started = True
            from mlopsctl.render.progress import make_listener

            listener = make_listener(options().color)
            ctx.events = listener
            try:
                with listener:
                    execute(ctx, the_plan, journal)
            finally:
                flush_caches(ctx)
            trail.status = "ok"
            _remind_to_commit(ctx.root)
    except MlopsError as e:
        trail.status, trail.error = ("failed" if trail.started else "refused"), e.message
        raise
    except BaseException as e:
        trail.status, trail.error = "interrupted", type(e).__name__
        raise
    finally:
        trail.write(command.split()[1])


class Trail:
    """What the durable audit record of this apply says (:mod:`mlopsctl.core.audit`)."""

    def __init__(self, root: Path, journal: object) -> None:
        self.root = root
        self.journal = journal
        self.plan: object | None = None
        self.started = False
        self.status = "refused"
        self.error: str | None = None

    def write(self, command: str) -> None:
        from mlopsctl.core import audit
        from mlopsctl.core.state import now_iso, read_history
        from mlopsctl.errors import MlopsError
        from mlopsctl.workspace.git import head_commit

        apply_id = getattr(self.journal, "apply_id", "")
        try:
            steps = [r for r in read_history(getattr(self.journal, "state_dir", self.root))
                     if r.get("apply") == apply_id and r.get("event") == "step"]
        except MlopsError:
            steps = []  # no readable local journal (the refusal says why): the record still goes to Git
        entry = {
            "apply": apply_id, "command": command, "time": now_iso(), "ns": time.time_ns(),
            "who": audit.who(self.root),
            "commit": head_commit(self.root), "status": self.status, "error": self.error,
            "plan_digest": audit.plan_digest(self.plan) if self.plan is not None else None,  # type: ignore[arg-type]
            "changes": [{"address": s.get("address"), "action": s.get("action"), "status": s.get("status"),
                         "error": s.get("error")} for s in steps],
        }
        why = audit.record(self.root, entry)
        if why and entry["commit"]:
            err(f"note: the audit record stays local (.mlopsctl/): {why}")



def _remind_to_commit(root: Path) -> None:
    """What apply writes (managed files, dvc.lock, .dvc files) is desired state: it belongs in Git."""
    from mlopsctl.workspace.git import uncommitted

    paths = uncommitted(root)
    if paths:
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        err(f"Review and commit what changed in the working tree ({shown}): it is part of the desired state.")


MAX_PARALLELISM = 256
"""Training workers at most: each is a process holding scikit-learn (about 100 MB); far more than the
cores only adds memory, and an unbounded number would exhaust it."""


@click.command(epilog=examples(
    "mlopsctl apply  # show the plan, ask, then make it so",
    "mlopsctl plan -o plan.json && mlopsctl apply plan.json  # exactly the plan you reviewed, no question",
))
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--lock-timeout", type=float, default=0.0, show_default=True, metavar="SECONDS",
              help="Wait this long for another apply to finish.")
@click.option("--force", is_flag=True, help="Overwrite hand edits and unmanaged files (backups are kept).")
@click.option("--parallelism", type=click.IntRange(min=1, max=MAX_PARALLELISM), default=None, metavar="N",
              help="Train up to N models at once (each worker holds the ML stack in "
                   "memory).  [default: the number of CPU cores]")
@target_options
@allow_options
def apply(planfile: str | None, auto_approve: bool, lock_timeout: float, force: bool, parallelism: int | None,
          targets: tuple[str, ...], excludes: tuple[str, ...], allow_destroy_protected: bool,
          allow_no_models: bool) -> None:
    """Make reality match the specs, or carry out a saved plan (refused if stale).

    In a terminal, one live display shows the running steps and an estimate of what is left;
    elsewhere (CI, pipes, NO_COLOR, --no-color) each step is one plain line. The output of DVC
    and image builds goes to .mlopsctl/logs/, which an error names.

    Training stages run side by side in long-lived worker processes (--parallelism), each stage
    recorded in dvc.lock as soon as it finishes; everything else runs in dependency order.
    """
    run_apply(planfile_path=planfile, auto_approve=auto_approve, targets=targets, excludes=excludes,
              lock_timeout=lock_timeout, force=force, allow_destroy_protected=allow_destroy_protected,
              allow_no_models=allow_no_models, parallelism=parallelism or 0)
