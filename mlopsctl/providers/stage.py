"""Training stages (``stage.<model>.train``): the ``train_<model>`` stage of the DVC pipeline.

The plan says why a stage would run (which data, parameter, code or command changed, or that
its outputs are missing) the way ``dvc status`` decides it, but computed from ``dvc.lock`` and
a stat cache without importing dvc, so a no-op plan stays fast. Apply checks the data contract
and then runs the stage through DVC (``dvc repro``), so ``dvc.lock`` is written by DVC and a
DVC user sees an ordinary pipeline; the artifact is pushed to the DVC remote afterwards.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlopsctl.core.model import Action, Change, Resource
from mlopsctl.errors import MlopsError, SpecError
from mlopsctl.pipeline import facts
from mlopsctl.pipeline.stages import StageDef

if TYPE_CHECKING:
    from mlopsctl.core.context import Context

PLAN_CHECK_MAX_BYTES = 50 * 1024 * 1024
"""Data files up to this size are checked against the contract at plan time (when the stage
would run anyway); bigger ones only at apply, before training."""


def _def_from(desired: dict[str, Any]) -> StageDef:
    d = dict(desired)
    d["deps"], d["outs"] = tuple(d["deps"]), tuple(d["outs"])
    d["reports"] = tuple(d.get("reports") or ())
    d["plots"] = tuple((p, tuple(tuple(kv) for kv in props)) for p, props in d.get("plots") or ())
    return StageDef(**d)


def _as_dict(s: StageDef) -> dict[str, Any]:
    # dataclasses.asdict deep-copies params recursively: too slow for 1,000 models.
    return {"name": s.name, "model": s.model, "cmd": s.cmd, "deps": list(s.deps), "params_file": s.params_file,
            "params": s.params, "outs": list(s.outs), "metrics": s.metrics, "metrics_in_out": s.metrics_in_out,
            "custom": s.custom, "reports": list(s.reports), "plots": [[p, [list(kv) for kv in props]] for p, props in s.plots]}


class StageProvider:
    kind = "stage"

    def expand(self, ctx: Context) -> Iterable[Resource]:
        from mlopsctl.pipeline.files import stage_defs

        for s in stage_defs(ctx):
            doc = ctx.project.models[s.model]
            deps: list[str] = []
            data_path = s.params["data"]["path"]
            if data_path:
                deps.append(f"dataset.{str(data_path).strip().removeprefix('./')}")
            deps += ["file.dvc.yaml", f"file.{s.params_file}"]
            yield Resource(kind=self.kind, name=f"{s.model}.train", desired=_as_dict(s), depends_on=tuple(deps),
                           source=doc.loc(""), model=s.model)

    def existing(self, ctx: Context) -> Iterable[str]:
        return ()  # artifacts of a removed model stay (registered versions may point at them)

    def read(self, address: str, desired: Resource | None, ctx: Context) -> dict[str, Any] | None:
        if desired is None:
            return None
        sdef = _def_from(desired.desired)
        cache = facts.stat_cache(ctx)
        lock = facts.load_lock(ctx.root, cache)
        entry = lock.get(sdef.name)
        reasons, current = facts.stage_status(ctx.root, sdef, entry, cache, ignore=_ignore(ctx))
        return {
            "ran": entry is not None,
            "locked": None if entry is None else {
                "cmd": entry.get("cmd"),
                "deps": {d.get("path"): d.get("md5") for d in entry.get("deps") or ()},
                "outs": {o.get("path"): o.get("md5") for o in entry.get("outs") or ()},
            },
            "current": current,
            "reasons": [[r.kind, r.text] for r in reasons],
        }

    def diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        if desired is None or actual is None:
            return Change(address, Action.NOOP, before=actual)
        sdef = _def_from(desired.desired)
        found = [(k, text) for k, text in actual["reasons"]]
        from mlopsctl.training.candidates import trained

        if address in trained(ctx):
            # plan --train just made these outputs (the candidate); the stage still runs at apply
            # for the reasons it had before, which are what the plan explains.
            found = [(k, text) for k, text in found if k != "out"] or found
        kinds = [k for k, _ in found]
        reasons = [text for _, text in found]
        # Upstream changes only explain a rerun the stage's own digests already call for: a
        # dataset that merely needs a push must not retrain the model.
        for dep in desired.depends_on if reasons else ():
            up = ctx.upstream.get(dep)
            if up is not None and up.action is not Action.NOOP and up.kind == "dataset":
                path = up.name
                first = next((r for r in up.reasons if r.startswith(path)), up.reasons[0] if up.reasons else "")
                reasons.append(f"upstream {dep} changes first: {first}")
        if reasons:
            # A retraining proposed because the data drifted says so (monitoring/<model>/last-drift.json).
            from mlopsctl.monitoring.warnings import drift_reason

            why = drift_reason(ctx, sdef.model)
            if why:
                reasons.append(why)
        after = {"stage": sdef.name, "cmd": sdef.cmd, "deps": list(sdef.deps), "outs": list(sdef.outs)}
        before = {"stage": sdef.name, **(actual.get("locked") or {})} if actual.get("ran") else None
        if not reasons:
            return Change(address, Action.NOOP, before=before, after=after)
        blocked = self._plan_checks(sdef, ctx)
        action = Action.CREATE if "new" in kinds or not actual.get("ran") else Action.UPDATE
        return Change(address, action, before=before, after=after, reasons=tuple(reasons), blocked=blocked)

    def _plan_checks(self, sdef: StageDef, ctx: Context) -> str | None:
        """Checks worth their cost only when the stage would run anyway: the data contract
        (pandas) and, for the built-in trainer, the estimator's params (sklearn)."""
        from mlopsctl.training.contract import ContractError, check_file

        data = ctx.root / str(sdef.params["data"]["path"] or "")
        problems: list[str] = []
        try:
            if data.is_file() and data.stat().st_size <= PLAN_CHECK_MAX_BYTES:
                check_file(ctx.root, sdef.params)
        except ContractError as e:
            problems.append(e.message)
        except MlopsError as e:
            problems.append(e.message)
        if not sdef.custom:
            from mlopsctl.training.estimators import make_estimator

            doc = ctx.project.models.get(sdef.model)
            est = sdef.params.get("estimator") or {}
            try:
                make_estimator(ctx.root, str(est.get("class") or ""), est.get("params") or {}, doc=doc,
                               spec_path=doc.path if doc else "")
            except SpecError as e:
                problems.append(e.message)
        return "\n".join(problems) or None

    def apply(self, change: Change, ctx: Context) -> dict[str, Any] | None:
        from mlopsctl.pipeline.repo import desired_remote, ensure_dvc
        from mlopsctl.pipeline.run import run_dvc
        from mlopsctl.training.contract import check_file

        sdef = _def_from(change.payload["desired"])
        root = ctx.root
        data = root / str(sdef.params["data"]["path"] or "")
        if data.is_file():
            ctx.progress(f"checking {sdef.params['data']['path']} against the data contract")
            check_file(root, sdef.params)  # refuses before any training starts
        if not (root / ".dvc").is_dir():
            ensure_dvc(root, desired_remote(ctx), ctx)
        started = time.monotonic()
        run_dvc(root, ["repro", sdef.name], log=ctx.output, progress=ctx.progress, what=f"dvc repro {sdef.name}")
        seconds = time.monotonic() - started
        cache = facts.stat_cache(ctx)
        entry = facts.load_lock(root, cache).get(sdef.name)
        left, current = facts.stage_status(root, sdef, entry, cache, ignore=_ignore(ctx))
        if left:
            raise MlopsError(f"stage {sdef.name} is still out of date after `dvc repro`: "
                             + "; ".join(r.text for r in left))
        if facts.default_remote(root) is not None:
            # With the run cache, so a pull request's `plan --train` restores this run, not retrains it.
            run_dvc(root, ["push", "--run-cache", sdef.name], log=ctx.output, progress=ctx.progress,
                    what=f"dvc push {sdef.name}")
            from mlopsctl.pipeline.run import push_objects

            kept_in_git = [o.get("md5") for o in (entry or {}).get("outs") or () if o.get("path") not in sdef.outs]
            push_objects(root, [str(m) for m in kept_in_git if m])
        cache.save()
        metrics = None
        try:
            metrics = json.loads((root / sdef.metrics).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        return {"stage": sdef.name, "outs": current["outs"], "metrics": metrics, "seconds": round(seconds, 2)}

    def delete(self, change: Change, ctx: Context) -> None:
        return None


@dataclass(frozen=True)
class _Ignored:
    """Names .dvcignore excludes, read once per run."""

    names: frozenset[str]


def _ignore(ctx: Context) -> frozenset[str]:
    return ctx.memo(_Ignored, lambda: _Ignored(facts.dvcignore_names(ctx.root))).names
