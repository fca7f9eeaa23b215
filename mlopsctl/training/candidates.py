"""``plan --train``: train what a change would retrain, before the merge, and register nothing.

The pull-request check (and a person, locally) runs it so the plan can show each changed
model's candidate metrics, the deltas against what every environment serves, and each gate's
verdict. Training goes through ``dvc repro``, so DVC's run cache answers for a stage it has seen
before (``dvc repro --pull`` fetches the run and its outputs from the remote): an unchanged model is restored,
not retrained. ``dvc.lock`` is put back afterwards: the record of what was trained belongs to the
apply after the merge, and the plan must still say the stage will run there.

What cannot be trained here is said in the plan's warnings, with the reason (data not pulled:
a pull request from a fork gets no secrets for the DVC remote; a blocked stage; a failure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlopsctl.errors import MlopsError

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.core.model import Plan



@dataclass
class TrainedCandidates:
    """The per-run memo of ``plan --train``: what it trained and what it could not compute."""

    addresses: set[str] = field(default_factory=set)
    """Stage addresses trained for this plan (the model provider reads their candidates)."""
    notes: list[str] = field(default_factory=list)
    """What could not be computed, and why: the plan's warnings."""


def plan_warnings(ctx: Context) -> list[str]:
    return list(ctx.memo(TrainedCandidates).notes)


def trained(ctx: Context) -> set[str]:
    return ctx.memo(TrainedCandidates).addresses

FORK_HINT = ("the data is not in this checkout: `dvc pull` needs the DVC remote's credentials, which pull requests "
             "from forks do not get")


def stages_to_train(plan: Plan) -> list[str]:
    from mlopsctl.core.model import Action

    return [c.address for c in plan.changes
            if c.address.startswith("stage.") and c.action is not Action.NOOP and c.action is not Action.DELETE]


_PIPELINE_FILES = ("file.dvc.yaml", "file.params/")


def _pipeline_as_planned(ctx: Context, plan: Plan) -> dict[Path, bytes | None]:
    """Write the pipeline files (``dvc.yaml``, ``params/``) as the plan renders them, so the
    candidate trains on the pull request's params; returns what to put back afterwards."""
    from mlopsctl.core.model import Action
    from mlopsctl.workspace.fsafe import write_atomic

    saved: dict[Path, bytes | None] = {}
    for c in plan.changes:
        content = c.payload.get("content")
        if not c.address.startswith(_PIPELINE_FILES) or c.action is Action.NOOP or not isinstance(content, str):
            continue
        if c.blocked:
            continue  # a hand edit there: never overwritten, not even for a moment
        path = Path(ctx.root) / c.name
        saved[path] = path.read_bytes() if path.is_file() else None
        write_atomic(path, content.encode("utf-8"), root=Path(ctx.root))
    return saved


def _put_back(ctx: Context, saved: dict[Path, bytes | None]) -> None:
    from mlopsctl.workspace.fsafe import write_atomic

    for path, data in saved.items():
        if data is None:
            path.unlink(missing_ok=True)
        else:
            write_atomic(path, data, root=Path(ctx.root))


def train_candidates(ctx: Context, plan: Plan) -> tuple[list[str], list[str]]:
    """Train the stages ``plan`` would run; returns (trained addresses, warnings)."""
    saved = _pipeline_as_planned(ctx, plan)
    try:
        return _train_all(ctx, plan)
    finally:
        _put_back(ctx, saved)


def _train_all(ctx: Context, plan: Plan) -> tuple[list[str], list[str]]:
    trained: list[str] = []
    notes: list[str] = []
    by_address = {c.address: c for c in plan.changes}
    for address in stages_to_train(plan):
        change = by_address[address]
        model = change.model or address.split(".")[1]
        if change.blocked:
            notes.append(f"candidate metrics of {model} could not be computed: {address} is blocked "
                         f"({change.blocked.splitlines()[0]})")
            continue
        desired = change.payload.get("desired") or {}
        missing = [d for d in desired.get("deps") or () if not (ctx.root / d).exists()]
        if missing:
            notes.append(f"candidate metrics of {model} could not be computed: {', '.join(missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} missing ({FORK_HINT})")
            continue
        try:
            _train_one(ctx, str(desired.get("name") or f"train_{model}"), model)
        except MlopsError as e:
            notes.append(f"candidate metrics of {model} could not be computed: training failed: "
                         f"{e.message.splitlines()[0]}")
            continue
        trained.append(address)
    return trained, notes


def _train_one(ctx: Context, stage: str, model: str) -> None:
    """``dvc repro STAGE`` with dvc.lock restored after it; the trainer itself without DVC."""
    if not (ctx.root / ".dvc").is_dir():
        from mlopsctl.training.train import train

        ctx.log(f"  training {model} (no DVC repository yet: the trainer runs directly)")
        train(ctx.root, model)
        return
    from mlopsctl.pipeline.run import run_dvc

    lock = Path(ctx.root) / "dvc.lock"
    saved = lock.read_bytes() if lock.is_file() else None
    ctx.log(f"  dvc repro {stage} (candidate only: nothing is registered)")
    try:
        # --pull: DVC's run cache and the outputs a cached run restores come from the remote when
        # they are not here (a fresh runner).
        run_dvc(ctx.root, ["repro", "--pull", stage], log=ctx.log, what=f"dvc repro {stage}")
    finally:
        from mlopsctl.workspace.fsafe import write_atomic

        if saved is None:
            lock.unlink(missing_ok=True)
        else:
            write_atomic(lock, saved, root=Path(ctx.root))
