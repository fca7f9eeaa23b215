"""Compute the plan: expand the specs, read reality, diff, once.

The result is a frozen :class:`~mlopsctl.core.model.Plan`; renderers only present it and
:mod:`mlopsctl.core.apply` only executes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlopsctl import __version__
from mlopsctl.core import graph, readers, reuse
from mlopsctl.core.context import Context
from mlopsctl.core.model import PROTECTED, Action, Change, Plan, Resource, fingerprint, split_address
from mlopsctl.core.provider import all_providers, get_provider, warning_sources
from mlopsctl.errors import MlopsError, StalePlanError
from mlopsctl.workspace import steady
from mlopsctl.workspace.digests import NotAFileError


def expand(ctx: Context) -> dict[str, Resource]:
    """Every desired resource, by address."""
    desired: dict[str, Resource] = {}
    for provider in all_providers():
        for r in provider.expand(ctx):
            if r.address in desired:
                first = desired[r.address]
                raise MlopsError(
                    f"two specs produce the same resource {r.address}: {first.source or '?'} and {r.source or '?'}"
                )
            desired[r.address] = r
    return desired


def existing(ctx: Context) -> set[str]:
    found: set[str] = set()
    for provider in all_providers():
        found.update(provider.existing(ctx))
    return found


def resource_from_change(change: Change) -> Resource | None:
    """Rebuild the desired resource a change was computed for (to re-diff it at apply)."""
    if "desired" not in change.payload:
        return None
    kind, name = split_address(change.address)
    return Resource(
        kind=kind,
        name=name,
        desired=change.payload["desired"],
        depends_on=change.depends_on,
        source=change.source,
        model=change.model,
    )


def diff_one(ctx: Context, address: str, resource: Resource | None, actual: Any = readers.MISSING,
             known: str | None = None) -> Change:
    """Read one resource's actual state (unless it was read already: ``actual``, and ``known`` its
    fingerprint) and diff it; fills in what every change carries."""
    provider = get_provider(split_address(address)[0])
    if actual is readers.MISSING:
        try:
            actual = provider.read(address, resource, ctx)
        except NotAFileError as e:
            where = f" ({resource.source})" if resource is not None and resource.source else ""
            raise MlopsError(f"{e.message}; read for {address}{where}") from None
    change = provider.diff(address, resource, actual, ctx)
    payload = dict(change.payload)
    if resource is not None:
        payload["desired"] = resource.desired
    return change.with_(
        fingerprint=change.fingerprint or known or fingerprint(actual),
        depends_on=change.depends_on or (resource.depends_on if resource else ()),
        model=change.model or (resource.model if resource else None),
        source=change.source or (resource.source if resource else None),
        payload=payload,
    )


def compute_pins(ctx: Context) -> dict[str, Any]:
    from mlopsctl.workspace.git import head_commit

    return {
        "git_head": head_commit(ctx.root),
        "specs": ctx.project.spec_digests,
        "mlopsctl_version": __version__,
    }


def compute_plan(
    ctx: Context,
    *,
    targets: Iterable[str] = (),
    excludes: Iterable[str] = (),
    destroy: bool = False,
    tracker: reuse.Tracker | None = None,
) -> Plan:
    """Expand, read and diff every selected resource in dependency order.

    A steady phase (:mod:`mlopsctl.workspace.steady`): nothing here writes what a plan reads.
    With a ``tracker`` (:mod:`mlopsctl.core.reuse`), what each change looked at is noted, and
    kept changes it offers are taken instead of reading and diffing again.
    """
    with steady.phase():
        return _compute(ctx, tuple(targets), tuple(excludes), destroy, tracker)


def _compute(ctx: Context, targets: tuple[str, ...], excludes: tuple[str, ...], destroy: bool,
             tracker: reuse.Tracker | None) -> Plan:
    ctx.destroy = destroy
    ctx.upstream.clear()
    with reuse.tracking(tracker, ctx):
        desired = {} if destroy else expand(ctx)
        order = graph.topo_order(desired)
        # A plan of everything that no kept memo offers changes to reads from the back in a second process too.
        offered = tracker is not None and tracker.kept is not None
        worker = None if offered or targets or excludes else readers.start(ctx, order, desired)
        try:
            found = existing(ctx)
            if not destroy and not ctx.project.models and not ctx.allow_no_models:
                _refuse_implied_destruction(ctx, found)
            orphans = graph.delete_order(found - set(desired))
            deps = {a: r.depends_on for a, r in desired.items()}
            selected = graph.select(order + orphans, deps, targets, excludes)
            changes = _diff_all(ctx, selected, desired, tracker, worker)
        finally:
            if worker is not None:
                worker.finish()
    warnings = [w for source in warning_sources() for w in source(ctx)]
    return Plan(
        changes=tuple(changes),
        pins=compute_pins(ctx),
        project=ctx.project.name,
        destroy=destroy,
        targets=tuple(targets),
        excludes=tuple(excludes),
        warnings=tuple(warnings),
        created_at=ctx.now,
        mlopsctl_version=__version__,
        options=ctx.plan_options(),
    )


def _diff_all(ctx: Context, selected: list[str], desired: dict[str, Resource],
              tracker: reuse.Tracker | None, worker: readers.Worker | None = None) -> list[Change]:
    if tracker is None:
        return _diff_each(ctx, selected, desired, worker)
    changes: list[Change] = []
    for address in selected:
        resource = desired.get(address)
        kept = tracker.reusable(address, resource, ctx.upstream)
        if kept is not None:
            change = kept
            for line in tracker.reads[address].logs:
                ctx.log(line)
        else:
            actual, known, looked = readers.taken(worker, address)
            with tracker.computing(address, resource, looked):
                change = _guard_protected(ctx, diff_one(ctx, address, resource, actual, known))
            tracker.computed(address, change)
        ctx.upstream[address] = change
        changes.append(change)
    return changes


def _diff_each(ctx: Context, selected: list[str], desired: dict[str, Resource],
               worker: readers.Worker | None) -> list[Change]:
    """Every change; states a read worker (:mod:`mlopsctl.core.readers`) found are not read again."""
    changes: list[Change] = []
    for address in selected:
        actual, known, _ = readers.taken(worker, address)
        change = _guard_protected(ctx, diff_one(ctx, address, desired.get(address), actual, known))
        ctx.upstream[address] = change
        changes.append(change)
    return changes


def _guard_protected(ctx: Context, change: Change) -> Change:
    """Block deleting the deployment of an environment marked ``protected: true`` unless explicitly allowed.

    Unlike other blocks, ``--force`` does not lift it: only ``--allow-destroy-protected`` does.
    """
    if change.kind != "deployment" or change.action is not Action.DELETE or ctx.allow_destroy_protected:
        return change
    env = change.name.rpartition(".")[2]
    if not (ctx.project.environments.get(env) or {}).get("protected"):
        return change
    where = ctx.project.spec.loc(f"environments.{env}.protected")
    why = (f"environment '{env}' is protected ({where}): its deployment is deleted only with "
           "--allow-destroy-protected")
    return change.with_(blocked=why, payload={**change.payload, PROTECTED: True})


def _refuse_implied_destruction(ctx: Context, found: set[str]) -> None:
    """No model specs where models existed (registered versions, deployments) is a mistake until said otherwise."""
    from mlopsctl.workspace.git import registered_models

    traces = sorted(a for a in found if split_address(a)[0] in ("deployment", "registry", "image", "stage", "model"))
    versions = registered_models(ctx.root)
    if not traces and not versions:
        return
    seen = ([f"registered models {', '.join(versions[:5])}"] if versions else []) + (
        [f"{', '.join(traces[:5])}{' ...' if len(traces) > 5 else ''}"] if traces else [])
    raise MlopsError(
        f"models/: there are no model specs, but models existed here ({'; '.join(seen)}). Deleting every model is "
        "never implied by an empty or lost models/ folder: restore the specs, or plan it explicitly with "
        "--allow-no-models"
    )


def moved_pins(ctx: Context, plan: Plan) -> list[str]:
    """What a saved plan was computed from that has moved since: mlopsctl, Git HEAD, spec files."""
    now = compute_pins(ctx)
    moved: list[str] = []
    if plan.pins.get("mlopsctl_version") != now["mlopsctl_version"]:
        moved.append(f"mlopsctl {plan.pins.get('mlopsctl_version')} -> {now['mlopsctl_version']}")
    if plan.pins.get("git_head") != now["git_head"]:
        moved.append(f"Git HEAD {str(plan.pins.get('git_head'))[:12]} -> {str(now['git_head'])[:12]}")
    old_specs, new_specs = plan.pins.get("specs") or {}, now["specs"]
    if not isinstance(old_specs, dict):
        old_specs = {}
    for path in sorted(set(old_specs) | set(new_specs), key=str):
        if old_specs.get(path) != new_specs.get(path):
            moved.append(f"{path} changed")
    return moved


def check_fresh(ctx: Context, plan: Plan, *, integrity: str | None = None) -> Plan:
    """Re-derive a saved plan and return the re-derived one; refuse it unless it equals the saved one.

    Nothing of the saved plan is executed: apply carries out the plan computed now from the
    current specs and state, and only when every change of it equals the reviewed one.
    """
    from mlopsctl.core.saved import rederive

    moved = moved_pins(ctx, plan)
    if moved:
        raise StalePlanError(
            "the saved plan is stale; what it was computed from has moved:\n" + _listing(moved)
            + "\nRun `mlopsctl plan` again and review the new plan."
        )
    return rederive(ctx, plan, integrity=integrity)


def _listing(items: list[str], limit: int = 20) -> str:
    text = "\n".join(f"  - {m}" for m in items[:limit])
    return text + (f"\n  ... and {len(items) - limit} more" if len(items) > limit else "")

