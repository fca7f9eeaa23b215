"""Training stages (``stage.<model>.train``): the ``train_<model>`` stage of the DVC pipeline.

The plan says why a stage would run (which data, parameter, code or command changed, or that
its outputs are missing) the way ``dvc status`` decides it, but computed from ``dvc.lock`` and
a stat cache without importing dvc, so a no-op plan stays fast. Apply runs stages of different
models at once in long-lived training workers (the ML stack imported once per worker, not once per
stage) and records each finished stage exactly as ``dvc repro`` would (``dvc.lock`` entry, DVC
cache, run cache, ``.gitignore``), so a DVC user sees an ordinary pipeline: ``dvc status`` is clean
and ``dvc repro`` has nothing to do. Outputs and run records reach the DVC remote as
``dvc push --run-cache`` would send them, in batches.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.core.model import Action, Change, Resource
from mlopsctl.pipeline import facts
from mlopsctl.pipeline.stages import StageDef

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.pipeline.lockfile import LockWriter
    from mlopsctl.pipeline.push import BatchPush
    from mlopsctl.training.workers import WorkerPool

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
    reads_alone = True  # read() needs the files alone (core/readers.py)

    def before_reads(self, ctx: Context) -> None:
        # What a facts helper has sent is taken in before the fork, not once on each side of it.
        # dvc.lock is parsed by the first read that needs it: a helper may have sent it by then.
        cache = facts.stat_cache(ctx)
        while cache.feed is not None and cache.feed():
            pass

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
        """Checks worth their cost only when the stage would run anyway: the data contract and,
        for the built-in trainer, the estimator's params (without pandas or scikit-learn when
        they can tell: see :mod:`mlopsctl.training.planchecks`)."""
        from mlopsctl.training.planchecks import plan_problems

        return plan_problems(ctx, sdef)

    parallel = True
    """Stages of different models run at once, each in a training worker (see :meth:`apply`)."""

    def apply(self, change: Change, ctx: Context) -> dict[str, Any] | None:
        """Train in a long-lived worker, which records the stage as ``dvc repro`` would (DVC
        cache, run cache); write its ``dvc.lock`` entry at once, then push its outputs, in a
        batch with other stages' when the remote is not a folder. Runs in one of the executor's
        threads, beside other stages."""
        from mlopsctl.pipeline.push import Outgoing, copy_to_local_remote
        from mlopsctl.pipeline.record import ignore_outs, objects

        sdef = _def_from(change.payload["desired"])
        rt = _runtime(ctx)
        log = ctx.state_dir / "logs" / "stages" / f"{sdef.name}.log"
        ctx.progress("waiting for a training worker")
        try:
            answer = rt.pool.run(change.payload["desired"], log, phase=ctx.progress)
        finally:
            for line in _log_lines(log):
                ctx.output(line)
        entry = answer["entry"]
        if answer.get("restored"):
            ctx.note(f"{sdef.name}: restored from DVC's run cache (same data, params and code as a recorded run)")
        rt.lock.record(sdef.name, entry)
        with rt.mutex:
            ignore_outs(ctx.root, list(sdef.outs))
        if rt.remote_dir is not None or rt.pusher is not None:
            ctx.progress("pushing to the DVC remote")
            out = Outgoing(objects(ctx.root, entry["outs"]), [Path(answer["run"])])
            if rt.remote_dir is not None:
                copy_to_local_remote(ctx.root, rt.remote_dir, out)
            elif rt.pusher is not None:
                rt.pusher.push(sdef.name, out)
        metrics = None
        try:
            metrics = json.loads((ctx.root / sdef.metrics).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        outs = {o["path"]: o["md5"] for o in entry["outs"]}
        return {"stage": sdef.name, "outs": outs, "metrics": metrics,
                "seconds": round(float(answer.get("seconds") or 0.0), 2)}

    def close(self, ctx: Context, *, interrupted: bool) -> None:
        """End of apply: stop the training workers (at once when interrupted)."""
        rt = ctx.peek(_Runtime)
        if rt is None:
            return
        ctx.forget(_Runtime)
        if interrupted:
            if rt.pusher is not None:
                rt.pusher.stop()
            rt.pool.terminate()
        else:
            rt.pool.close()

    def delete(self, change: Change, ctx: Context) -> None:
        return None


@dataclass(frozen=True)
class _Ignored:
    """Names .dvcignore excludes, read once per run."""

    names: frozenset[str]


_RUNTIME_MUTEX = threading.Lock()


@dataclass
class _Runtime:
    """What the stages of one apply share: the workers, the lock file writer, the batched push."""

    pool: WorkerPool
    lock: LockWriter
    pusher: BatchPush | None
    remote_dir: Path | None
    """The default remote when it is a local folder: objects are copied there directly."""
    mutex: threading.Lock


def _runtime(ctx: Context) -> _Runtime:
    from mlopsctl.pipeline.lockfile import LockWriter
    from mlopsctl.pipeline.push import BatchPush
    from mlopsctl.pipeline.repo import desired_remote, ensure_dvc
    from mlopsctl.training.workers import WorkerPool

    with _RUNTIME_MUTEX:
        rt = ctx.peek(_Runtime)
        if rt is None:
            if not (ctx.root / ".dvc").is_dir():
                ensure_dvc(ctx.root, desired_remote(ctx), ctx)
            pool = WorkerPool(ctx.root, ctx.parallelism or os.cpu_count() or 1)
            pusher, remote_dir = None, None
            remote = facts.default_remote(ctx.root)
            if remote is not None and facts.is_local_url(remote[1]):
                remote_dir = facts.local_remote_dir(ctx.root, remote[1])
            elif remote is not None:
                pusher = BatchPush(ctx.root, quiet=lambda: pool.busy == 0, log=ctx.output)
            rt = _Runtime(pool=pool, lock=LockWriter(ctx.root), pusher=pusher, remote_dir=remote_dir,
                          mutex=threading.Lock())
            ctx.memo(_Runtime, lambda: rt)
        return rt


def _log_lines(log: Path) -> list[str]:
    try:
        return [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return []


def _ignore(ctx: Context) -> frozenset[str]:
    return ctx.memo(_Ignored, lambda: _Ignored(facts.dvcignore_names(ctx.root))).names
