"""Kind ``model``: the candidate of one model; apply checks its gates and registers a version.

``model.<name>`` is desired to be "a registered version for the current training output". It
depends on ``stage.<name>.train``: when the stage will run, the candidate is known only after
training, so the plan says so; at apply the engine re-reads this resource after the stage ran
and :meth:`ModelProvider.apply` decides on the fresh output. A candidate that fails a gate is
never registered; the version tag is written last, in one atomic ref update, so a failure
anywhere before it leaves nothing half-registered.

Versions are history and are never deleted: this kind reports no existing resources to prune.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.core.model import Action, Address, Change, Resource
from mlopsctl.errors import MlopsError
from mlopsctl.registry.fmt import metrics_text
from mlopsctl.specs.model_spec import ModelSpec

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.registry.outputs import Outputs
    from mlopsctl.registry.record import TreeState
    from mlopsctl.registry.state import ModelRegistry, ModelVersion
    from mlopsctl.registry.store import Gaps
    from mlopsctl.specs.model import SpecDoc


def baseline_metrics(spec: ModelSpec, reg: ModelRegistry) -> dict[str, float] | None:
    """Metrics of the version the ``no_worse_than`` gate compares with (None: no such version yet)."""
    rule = spec.gates.no_worse_than
    if rule is None:
        return None
    current = reg.assignments.get(rule.environment)
    return dict(current.metrics) if current is not None else None


def failed_gates(spec: ModelSpec, metrics: dict[str, float], reg: ModelRegistry,
                 fairness: dict[str, Any] | None = None) -> list[str]:
    """Messages of the gates the metrics fail, e.g. "gate accuracy >= 0.9 not met by candidate (0.87)"."""
    from mlopsctl.training.gates import check_gates

    results = check_gates(spec.gates.written, metrics, baseline_metrics(spec, reg), fairness, task=spec.task)
    return [r.message for r in results if not r.passed]


def group_lines(spec: ModelSpec, fairness: dict[str, Any] | None) -> list[str]:
    """The per-group gaps the plan shows next to a passing candidate (limited metrics first)."""
    if not fairness:
        return []
    from mlopsctl.training.fairness import summary_lines

    limited = list((spec.gates.fairness or {}).get("max_gap") or {})
    return [f"per group: {line}" for line in summary_lines(fairness, limited or ["accuracy", "mean_absolute_error"])]


def candidate_after(ctx: Context, spec: ModelSpec, reg: ModelRegistry, candidate: dict[str, Any],
                    version: int) -> dict[str, Any]:
    """What the plan records about a known candidate: its metrics, the deltas against the version
    each environment serves, every gate's verdict, the per-group gaps and the plot summary."""
    from mlopsctl.registry.compare import served_deltas
    from mlopsctl.training.gates import check_gates

    metrics = dict(candidate["metrics"])
    fairness = candidate.get("fairness")
    envs = list(ctx.project.environments)
    results = check_gates(spec.gates.written, metrics, baseline_metrics(spec, reg), fairness, task=spec.task)
    after: dict[str, Any] = {
        "version": version, "metrics": metrics, "sha256": candidate["sha256"],
        "deltas": served_deltas(metrics, reg, envs),
        "gates": [r.to_dict() for r in results],
    }
    if fairness:
        after["fairness_gaps"] = {k: round(v["gap"], 6) for k, v in (fairness.get("gaps") or {}).items()}
    if candidate.get("evaluation"):
        after["evaluation"] = candidate["evaluation"]
    return after


@dataclass(frozen=True)
class _Head:
    """HEAD as of this run (read once)."""

    commit: str | None


def _head(ctx: Context) -> str | None:
    from mlopsctl.workspace.git import head_commit

    return ctx.run_memo(_Head, lambda: _Head(head_commit(ctx.root))).commit


@dataclass(frozen=True)
class _Who:
    """Who registers in this run (``git var`` asked once)."""

    who: dict[str, Any]


def _who(ctx: Context) -> dict[str, Any]:
    from mlopsctl.core.audit import who

    return dict(ctx.run_memo(_Who, lambda: _Who(who(Path(ctx.root)))).who)


def commit_conflict(model: str, reg: ModelRegistry, head: str | None) -> str | None:
    """Why a new version cannot go on HEAD, or None.

    GTO resolves an environment assignment through the commit it points at, so two versions of
    one model on the same commit would make every later assignment ambiguous (``gto show``
    fails). The commit that retrains the model must be committed first: then it gets its own.
    """
    if head is None:
        return "the repository has no commit yet: commit the specs, then apply (a version is a tag on a commit)"
    taken = reg.on_commit(head)
    if not taken:
        return None
    return (
        f"{taken[-1].tag} is already registered on commit {head[:12]} and GTO keeps one version of a model per "
        f"commit: commit the change that retrains {model}, then apply"
    )


def training_inputs(ctx: Context) -> tuple[str, ...]:
    """Paths whose untracked files would change what trains: specs, code, every stage dependency."""
    from mlopsctl.pipeline.files import stage_defs

    deps = {d for s in stage_defs(ctx) for d in s.deps}
    return tuple(sorted({"mlops.yaml", "models", "src", *deps}))


def _tree(ctx: Context) -> TreeState:
    from mlopsctl.registry.record import run_tree

    return run_tree(ctx, lambda: training_inputs(ctx))


def registration_blocker(ctx: Context, model: str, reg: ModelRegistry, *, will_train: bool) -> str | None:
    """Why registering a version of ``model`` would be refused, as seen at plan time, or None.

    People's edits must be committed (and HEAD on a branch); what apply writes is recorded in a
    commit of its own, which then holds the new version alone.
    """
    from mlopsctl.registry.record import refusal

    state = _tree(ctx)
    why = refusal(state, model)
    if why:
        return why
    if will_train or any(not r.startswith("reports/") for r in state.records):
        return None  # the version goes on its own record commit
    # Only evaluation reports moved (no dvc.lock, params or .dvc change): no training was recorded.
    return commit_conflict(model, reg, _head(ctx))


def dvcfacts_remote_label(ctx: Context) -> str | None:
    from mlopsctl.pipeline import facts as dvcfacts

    remote = dvcfacts.default_remote(ctx.root)
    return f"{remote[0]!r} ({remote[1]})" if remote else None


class ModelProvider:
    kind = "model"
    reads_alone = True  # read() needs the files alone (core/readers.py)

    def before_reads(self, ctx: Context) -> None:
        from mlopsctl.pipeline import facts as dvcfacts
        from mlopsctl.registry.api import state_for

        dvcfacts.stat_cache(ctx)
        state = state_for(ctx)
        for name in ctx.project.models:
            state.model(name)  # the plan's diffs need each model's registry too: made once, before the fork

    def expand(self, ctx: Context) -> Iterable[Resource]:
        for name, doc in sorted(ctx.project.models.items()):
            spec = doc.model
            yield Resource(
                kind=self.kind,
                name=name,
                desired={"gates": dict(spec.gates.written), "metrics": list(spec.listed_metrics)},
                depends_on=(f"stage.{name}.train",),
                source=doc.loc("gates") if "gates" in doc.data else doc.loc(""),
                model=name,
            )

    def existing(self, ctx: Context) -> Iterable[str]:
        return ()  # registered versions are history, never pruned

    def _doc(self, ctx: Context, name: str) -> SpecDoc | None:
        return ctx.project.models.get(name)

    def _outputs(self, ctx: Context, name: str, *, with_lineage: bool = False) -> Outputs | None:
        from mlopsctl.registry.outputs import read_outputs

        doc = self._doc(ctx, name)
        return read_outputs(ctx, name, doc.model if doc else None, with_lineage=with_lineage)

    def read(self, address: str, desired: Resource | None, ctx: Context) -> dict[str, Any] | None:
        from mlopsctl.registry.api import model_registry

        name = Address.parse(address).model
        reg = model_registry(ctx, name)
        outputs = self._outputs(ctx, name) if desired is not None else None
        registered = reg.by_sha256(outputs.sha256) if outputs else None
        doc = self._doc(ctx, name)
        baseline = baseline_metrics(doc.model, reg) if doc else None
        candidate = outputs.summary() if outputs else None
        if candidate is not None and registered is None and doc is not None and doc.model.train is None:
            # The plot summary is shown with a candidate to register; a registered one shows none.
            from mlopsctl.training.plotfiles import summarize

            candidate["evaluation"] = summarize(ctx.root, name, doc.model.task, digests=ctx.digests)
        from mlopsctl.registry.store import artifact_gaps

        gaps = artifact_gaps(ctx, reg) if desired is not None else None
        return {
            "gaps": None if gaps is None else {"push": list(gaps.push), "fetch": list(gaps.fetch),
                                               "lost": list(gaps.lost)},
            "versions": [mv.version for mv in reg.versions],
            "latest": reg.latest.version if reg.latest else None,
            "candidate": candidate,
            "registered_as": registered.version if registered else None,
            "baseline": baseline,
        }

    def diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        change = self._diff(address, desired, actual, ctx)
        gaps = self._gaps(ctx, change.name, actual)
        if gaps is None or not gaps.reasons():
            return change
        after = {**(change.after or {}), "artifacts": {"push": list(gaps.push), "fetch": list(gaps.fetch)}}
        if change.action is Action.NOOP:
            if not gaps.actionable:
                return change.with_(reasons=tuple(gaps.reasons()))
            return change.with_(action=Action.UPDATE, after=after, reasons=tuple(gaps.reasons()))
        return change.with_(after=after, reasons=(*change.reasons, *gaps.reasons()))

    def _gaps(self, ctx: Context, name: str, actual: dict[str, Any] | None) -> Gaps | None:
        from mlopsctl.registry.store import Gaps

        raw = (actual or {}).get("gaps")
        if not raw:
            return None
        return Gaps(dvcfacts_remote_label(ctx) or "", tuple(raw["push"]), tuple(raw["fetch"]), tuple(raw["lost"]))

    def _diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        from mlopsctl.registry.api import model_registry

        name = Address.parse(address).model
        if desired is None or actual is None:
            return Change(address=address, action=Action.NOOP, model=name)
        reg = model_registry(ctx, name)
        doc = self._doc(ctx, name)
        spec = doc.model if doc else ModelSpec(name)
        order = list(spec.listed_metrics)
        nxt = reg.next_version
        before = {"latest": actual["latest"]}
        stage = ctx.upstream.get(f"stage.{name}.train")
        from mlopsctl.training.candidates import trained as trained_here

        trained = stage is not None and (stage.address in ctx.applied or stage.address in trained_here(ctx))
        if stage is not None and stage.action is not Action.NOOP and not trained:
            same = self._equal_version(ctx, name, reg)
            if same is not None:
                return Change(
                    address=address,
                    action=Action.UPDATE,
                    before=before,
                    after={"latest": actual["latest"], "equals": same.version},
                    reasons=((f"equals v{same.version}: the training runs on the same data, params and code as "
                             f"v{same.version}, so no new version is registered"),),
                    model=name,
                )
            return Change(
                address=address,
                action=Action.CREATE,
                before=before,
                after={"version": nxt, "metrics": "(known after training)"},
                reasons=(f"registers v{nxt} if the candidate passes its gates (known after training)",),
                blocked=registration_blocker(ctx, name, reg, will_train=True),
                model=name,
            )
        candidate = actual["candidate"]
        if candidate is None or actual["registered_as"] is not None:
            after = {**before, "serves": actual["registered_as"]} if actual["registered_as"] is not None else before
            return Change(address=address, action=Action.NOOP, before=before, after=after, model=name)
        metrics = dict(candidate["metrics"])
        fairness = candidate.get("fairness")
        failures = failed_gates(spec, metrics, reg, fairness)
        after = candidate_after(ctx, spec, reg, candidate, nxt)
        from mlopsctl.registry.compare import delta_lines

        deltas = delta_lines(after["deltas"], order)
        if failures:
            return Change(
                address=address,
                action=Action.CREATE,
                before=before,
                after=after,
                reasons=(*failures, *deltas),
                blocked="; ".join(failures) + ": the candidate is not registered",
                model=name,
            )
        return Change(
            address=address,
            action=Action.CREATE,
            before=before,
            after=after,
            reasons=(f"register v{nxt} ({metrics_text(metrics, order)})", *deltas, *group_lines(spec, fairness)),
            blocked=registration_blocker(ctx, name, reg, will_train=False),
            model=name,
        )

    def apply(self, change: Change, ctx: Context) -> dict[str, Any] | None:
        from mlopsctl.registry.api import forget_candidate, model_registry, write_and_remember
        from mlopsctl.registry.inputs import locked_fingerprint
        from mlopsctl.registry.outputs import artifact_path, complete_lineage, metrics_path
        from mlopsctl.registry.tags import is_valid_name

        name = change.name
        doc = self._doc(ctx, name)
        if doc is None:
            raise MlopsError(f"model {name!r} has no spec under models/; nothing to register")
        forget_candidate(ctx, name)  # the stage may have just run; the tags are the run's (read once)
        reg = model_registry(ctx, name)
        synced = self._sync(ctx, name, change)
        if change.action is Action.UPDATE and "equals" not in (change.after or {}):
            return synced
        outputs = self._outputs(ctx, name, with_lineage=True)
        if outputs is None:
            raise MlopsError(
                f"{name}: no training output to register: {artifact_path(name)} or "
                f"{metrics_path(name, doc.model)} is missing (the stage stage.{name}.train must run first)"
            )
        known = reg.by_sha256(outputs.sha256)
        if known is not None:
            return {"version": known.version, "tag": known.tag, "registered": False}
        failures = failed_gates(doc.model, outputs.metrics, reg, outputs.fairness)
        if failures:
            raise MlopsError(f"{name} ({doc.path}): " + "; ".join(failures) + ". Nothing was registered.")
        if not is_valid_name(name):
            raise MlopsError(f"{doc.loc('name')}: model name {name!r} cannot be a registry tag (GTO's grammar)")
        blocker = registration_blocker(ctx, name, reg, will_train=False)
        if blocker:
            raise MlopsError(f"{name}: {blocker}. Nothing was registered.")
        head = self._record(ctx, name, reg.next_version)
        conflict = commit_conflict(name, reg, head)
        if conflict:
            raise MlopsError(f"{name}: {conflict}. Nothing was registered.")
        version = reg.next_version
        tag = f"{name}@v{version}.0.0"
        lineage = complete_lineage(ctx, doc, outputs, head)
        lineage["code_commit"] = head  # the tagged commit: it holds the specs, params and dvc.lock of this run
        inputs = locked_fingerprint(ctx, name)
        if inputs:
            lineage["inputs"] = inputs
        payload = {
            "version": version,
            "artifact": {"path": outputs.path, "md5": outputs.md5, "sha256": outputs.sha256},
            "metrics": outputs.metrics,
            "lineage": lineage,
            "gates": dict(doc.model.gates.written),
            "by": "mlopsctl",
            "registered_by": _who(ctx),
        }
        if outputs.fairness is not None:
            payload["fairness"] = outputs.fairness
        write_and_remember(ctx, tag, head, payload, not_before=reg.newest_time)
        ctx.note(f"{name}: registered v{version} ({metrics_text(outputs.metrics, doc.model.listed_metrics)})")
        return {"version": version, "tag": tag, "sha256": outputs.sha256, "metrics": outputs.metrics}

    def _sync(self, ctx: Context, name: str, change: Change) -> dict[str, Any]:
        """Push versions the remote lacks, restore served versions the cache lacks."""
        from mlopsctl.registry.api import model_registry
        from mlopsctl.registry.store import artifact_gaps, close_gaps

        if not (change.after or {}).get("artifacts"):
            return {}
        reg = model_registry(ctx, name)
        return close_gaps(ctx, reg, artifact_gaps(ctx, reg))

    def _equal_version(self, ctx: Context, name: str, reg: ModelRegistry) -> ModelVersion | None:
        """The registered version whose recorded training inputs equal what the stage will train from."""
        from mlopsctl.registry.inputs import desired_fingerprint

        recorded = [mv for mv in reg.versions if mv.lineage.get("inputs")]
        if not recorded:
            return None
        want = desired_fingerprint(ctx, name)
        return next((mv for mv in reversed(recorded) if mv.lineage.get("inputs") == want), None)

    def _record(self, ctx: Context, name: str, version: int) -> str:
        """Refuse people's uncommitted edits; commit what apply wrote; return the commit to tag."""
        from mlopsctl.registry.record import record_for, run_tree

        records = run_tree(ctx, lambda: training_inputs(ctx)).records
        before = _head(ctx)
        head = record_for(ctx, lambda: training_inputs(ctx), name, before, f"{name} v{version}")
        if head != before:
            ctx.forget(_Head)
            ctx.run_memo(_Head, lambda: _Head(head))
            shown = ", ".join(records[:6]) + (" ..." if len(records) > 6 else "")
            ctx.log(f"{name}: recorded {shown} in commit {head[:12]} (the commit v{version} is tagged on)")
        return head

    def delete(self, change: Change, ctx: Context) -> None:
        return None  # never called: existing() reports nothing, versions are kept
