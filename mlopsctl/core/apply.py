"""Execute a plan: dependency order, one journal line per finished step, fresh facts downstream.

The executor never decides what to do: it walks the Plan it is given. A resource whose
dependencies were changed earlier in this same run is re-read and re-diffed right before it
runs, so "known after apply" facts (a candidate's metrics, a new version number) are current.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from mlopsctl.core.context import Context
from mlopsctl.core.model import Action, Change, Plan
from mlopsctl.core.plan import diff_one, resource_from_change
from mlopsctl.core.provider import get_provider
from mlopsctl.core.state import Journal
from mlopsctl.errors import ApplyError, MlopsError

_VERB = {
    Action.CREATE: ("creating", "created"),
    Action.UPDATE: ("updating", "updated"),
    Action.REPLACE: ("replacing", "replaced"),
    Action.DELETE: ("deleting", "deleted"),
}


@dataclass
class ApplyResult:
    done: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        text = f"Apply complete: {len(self.done)} changed"
        if self.unchanged:
            text += f", {len(self.unchanged)} found already up to date"
        if self.failed or self.skipped:
            text = (f"Apply failed: {len(self.done)} changed, {len(self.failed)} failed, "
                    f"{len(self.skipped)} not attempted")
        return text + "."


def _refresh(ctx: Context, change: Change, changed: set[str]) -> Change:
    if change.action is Action.DELETE or not any(d in changed for d in change.depends_on):
        return change
    resource = resource_from_change(change)
    return diff_one(ctx, change.address, resource) if resource is not None else change


def _pause_point(steps_done: int) -> None:
    """Crash tests set MLOPSCTL_PAUSE_AFTER_STEPS=N to hold apply still after N steps, so a kill -9
    lands at a known point; unset (always, outside tests) it costs one dict lookup."""
    pause = os.environ.get("MLOPSCTL_PAUSE_AFTER_STEPS")
    if pause and steps_done == int(pause):
        time.sleep(3600)


def execute(ctx: Context, plan: Plan, journal: Journal) -> ApplyResult:
    """Carry out the plan's changes; raises ApplyError after recording what finished."""
    ctx.destroy = plan.destroy
    ctx.upstream.clear()
    ctx.applied.clear()
    result = ApplyResult()
    changed: set[str] = set()
    broken: set[str] = set()  # failed or skipped: their dependents cannot run
    pending = plan.pending
    journal.start(len(pending))
    try:
        for planned in plan.changes:
            ctx.upstream[planned.address] = planned
            if planned.action is Action.NOOP:
                continue
            blockers = [d for d in planned.depends_on if d in broken]
            if blockers:
                result.skipped[planned.address] = f"depends on {blockers[0]}, which did not apply"
                broken.add(planned.address)
                continue
            change = _refresh(ctx, planned, changed)
            ctx.upstream[change.address] = change
            if change.action is Action.NOOP:
                result.unchanged.append(change.address)
                continue
            doing, done = _VERB[change.action]
            ctx.log(f"{change.address}: {doing}...")
            started = time.monotonic()
            try:
                if change.blocked and (not ctx.force or change.payload.get("protected")):
                    raise MlopsError(change.blocked)  # found only now, with facts known after apply
                provider = get_provider(change.kind)
                facts = None
                if change.action is Action.DELETE:
                    provider.delete(change, ctx)
                else:
                    facts = provider.apply(change, ctx)
            except MlopsError as e:
                seconds = time.monotonic() - started
                journal.step(change.address, change.action.value, "failed", seconds, reasons=change.reasons,
                             error=e.message)
                ctx.log(f"{change.address}: failed after {seconds:.1f}s")
                result.failed[change.address] = e.message
                broken.add(change.address)
                continue
            seconds = time.monotonic() - started
            journal.step(change.address, change.action.value, "ok", seconds, reasons=change.reasons,
                         facts=facts if isinstance(facts, dict) else None)
            ctx.log(f"{change.address}: {done} ({seconds:.1f}s)")
            result.done.append(change.address)
            changed.add(change.address)
            ctx.applied.add(change.address)
            _pause_point(len(result.done))
    except BaseException:
        journal.finish("interrupted", {"done": len(result.done)})
        raise
    status = "failed" if result.failed else "ok"
    journal.finish(status, {"done": len(result.done), "failed": len(result.failed), "skipped": len(result.skipped)})
    if result.failed:
        lines = [f"  - {a}: {m}" for a, m in result.failed.items()]
        lines += [f"  - {a}: not attempted ({m})" for a, m in result.skipped.items()]
        raise ApplyError(
            result.summary() + "\n" + "\n".join(lines)
            + "\nWhat finished is recorded; fix the cause and run apply again to converge."
        )
    return result
