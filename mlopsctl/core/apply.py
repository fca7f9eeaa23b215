"""Execute a plan: dependency order, one journal line per finished step, fresh facts downstream.

The executor never decides what to do: it walks the Plan it is given. A resource whose
dependencies were changed earlier in this same run is re-read and re-diffed right before it
runs, so "known after apply" facts (a candidate's metrics, a new version number) are current.

It reports what it does as typed events (core.events) through ``ctx.events``, never by printing:
the command decides whether a live display, plain lines or nobody listens. Raw tool output and
every event also go to the run's log file under ``.mlopsctl/logs/``, which a failure names.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from mlopsctl.core.context import Context
from mlopsctl.core.events import ApplyFinished, ApplyStarted, RunLog, StepFinished, StepStarted
from mlopsctl.core.model import Action, Change, Plan
from mlopsctl.core.plan import diff_one, resource_from_change
from mlopsctl.core.provider import get_provider
from mlopsctl.core.state import Journal, last_steps
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


def _run_step(ctx: Context, change: Change) -> dict[str, Any] | None:
    if change.blocked and (not ctx.force or change.payload.get("protected")):
        raise MlopsError(change.blocked)  # found only now, with facts known after apply
    provider = get_provider(change.kind)
    if change.action is Action.DELETE:
        provider.delete(change, ctx)
        return None
    facts = provider.apply(change, ctx)
    return facts if isinstance(facts, dict) else None


def execute(ctx: Context, plan: Plan, journal: Journal) -> ApplyResult:
    """Carry out the plan's changes; raises ApplyError after recording what finished."""
    ctx.destroy = plan.destroy
    ctx.upstream.clear()
    ctx.applied.clear()
    result = ApplyResult()
    changed: set[str] = set()
    broken: set[str] = set()  # failed or skipped: their dependents cannot run
    pending = plan.pending
    history = last_steps(ctx.state_dir)
    estimates = {c.address: float(history[c.address]["seconds"]) for c in pending if c.address in history}
    journal.start(len(pending))
    run_log = RunLog(ctx.state_dir, f"{journal.command}-{journal.apply_id}")
    shown_log = run_log.path.relative_to(ctx.root).as_posix() if run_log.path.is_relative_to(ctx.root) \
        else str(run_log.path)
    ctx.run_log = run_log
    began = time.monotonic()
    ctx.emit(ApplyStarted(total=len(pending), estimates=estimates, log_path=shown_log))
    try:
        for planned in plan.changes:
            ctx.upstream[planned.address] = planned
            if planned.action is Action.NOOP:
                continue
            address, action = planned.address, planned.action.value
            blockers = [d for d in planned.depends_on if d in broken]
            if blockers:
                why = f"depends on {blockers[0]}, which did not apply"
                result.skipped[address] = why
                broken.add(address)
                ctx.emit(StepFinished(address, action, "skipped", why))
                continue
            change = _refresh(ctx, planned, changed)
            ctx.upstream[address] = change
            if change.action is Action.NOOP:
                result.unchanged.append(address)
                ctx.emit(StepFinished(address, action, "unchanged", "found up to date"))
                continue
            doing, done = _VERB[change.action]
            action = change.action.value
            ctx.set_step(address)
            ctx.emit(StepStarted(address, action, doing, estimates.get(address)))
            started = time.monotonic()
            try:
                facts = _run_step(ctx, change)
            except MlopsError as e:
                seconds = time.monotonic() - started
                journal.step(address, action, "failed", seconds, reasons=change.reasons, error=e.message)
                for line in e.message.splitlines():
                    run_log.write(address, line)
                ctx.emit(StepFinished(address, action, "failed", "failed", seconds, error=e.message))
                result.failed[address] = e.message
                broken.add(address)
                continue
            finally:
                ctx.set_step(None)
            seconds = time.monotonic() - started
            journal.step(address, action, "ok", seconds, reasons=change.reasons, facts=facts)
            ctx.emit(StepFinished(address, action, "ok", done, seconds))
            result.done.append(address)
            changed.add(address)
            ctx.applied.add(address)
            _pause_point(len(result.done))
    except BaseException:
        journal.finish("interrupted", {"done": len(result.done)})
        ctx.emit(ApplyFinished(False, f"Apply interrupted: {len(result.done)} changed.", time.monotonic() - began,
                               shown_log))
        ctx.run_log = None
        run_log.close()
        raise
    status = "failed" if result.failed else "ok"
    journal.finish(status, {"done": len(result.done), "failed": len(result.failed), "skipped": len(result.skipped)})
    ctx.emit(ApplyFinished(not result.failed, result.summary(), time.monotonic() - began, shown_log))
    ctx.run_log = None
    run_log.close()
    if result.failed:
        lines = [f"  - {a}: {m}" for a, m in result.failed.items()]
        lines += [f"  - {a}: not attempted ({m})" for a, m in result.skipped.items()]
        raise ApplyError(
            f"{len(result.failed)} step{'s' if len(result.failed) != 1 else ''} failed:\n" + "\n".join(lines)
            + f"\nThe full output is in {shown_log}.\n"
            "What finished is recorded; fix the cause and run apply again to converge."
        )
    return result
