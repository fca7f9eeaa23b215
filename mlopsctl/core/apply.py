"""Execute a plan: dependency order, one journal line per finished step, fresh facts downstream.

Changes start as soon as what they depend on has finished; training stages run side by side
(``apply --parallelism``), everything else one at a time on the calling thread.

The executor never decides what to do: it walks the Plan it is given. A resource whose
dependencies were changed earlier in this same run is re-read and re-diffed right before it
runs, so "known after apply" facts (a candidate's metrics, a new version number) are current.

It reports what it does as typed events (core.events) through ``ctx.events``, never by printing:
the command decides whether a live display, plain lines or nobody listens. Raw tool output and
every event also go to the run's log file under ``.mlopsctl/logs/``, which a failure names.
"""

from __future__ import annotations

import heapq
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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


def _run_step(ctx: Context, provider: Any, change: Change) -> dict[str, Any] | None:
    """Carry out one change on this thread, with the thread's step set for its events."""
    ctx.set_step(change.address)
    try:
        if change.action is Action.DELETE:
            provider.delete(change, ctx)
            return None
        facts = provider.apply(change, ctx)
        return facts if isinstance(facts, dict) else None
    finally:
        ctx.set_step(None)


class _Walk:
    """One apply's walk over the plan: each change starts once the changes it depends on have
    finished. Changes of a kind whose provider says ``parallel = True`` (training stages) run in
    threads, up to ``ctx.parallelism`` of them working at once (the provider bounds its own
    workers); the rest run on this thread, one at a time. Only this thread re-diffs, journals and
    reports a step's end, so the journal's order is the order steps finished."""

    def __init__(self, ctx: Context, plan: Plan, journal: Journal, run_log: RunLog,
                 estimates: dict[str, float]) -> None:
        self.ctx, self.plan, self.journal, self.run_log = ctx, plan, journal, run_log
        self.estimates = estimates
        self.result = ApplyResult()
        self.changed: set[str] = set()
        self.broken: set[str] = set()  # failed or skipped: their dependents cannot run
        self.finished: set[str] = set()
        self.running: dict[Future[dict[str, Any] | None], tuple[Change, float]] = {}
        self.providers: dict[str, Any] = {}
        self.threads: ThreadPoolExecutor | None = None
        in_plan = {c.address for c in plan.changes}
        # Ready changes by plan position; each change waits for a count of unfinished dependencies.
        self.order = {c.address: i for i, c in enumerate(plan.changes)}
        self.missing: dict[str, int] = {}
        self.dependents: dict[str, list[Change]] = {}
        self.ready: list[tuple[int, Change]] = []
        for c in plan.changes:
            deps = {d for d in c.depends_on if d in in_plan and d != c.address}
            self.missing[c.address] = len(deps)
            for d in deps:
                self.dependents.setdefault(d, []).append(c)
            if not deps:
                heapq.heappush(self.ready, (self.order[c.address], c))

    def run(self) -> None:
        while self.ready or self.running:
            while self.ready:
                self._start(heapq.heappop(self.ready)[1])
            if self.running:
                done, _ = wait(list(self.running), return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: self.order[self.running[f][0].address]):
                    change, began = self.running.pop(fut)
                    try:
                        facts = fut.result()
                    except MlopsError as e:
                        self._failed(change, began, e)
                    else:
                        self._done(change, began, facts)
            if not self.ready and not self.running and len(self.finished) < len(self.plan.changes):
                # Dependencies in a cycle (never planned so): go on with the first left, in plan order.
                left = next(c for c in self.plan.changes if c.address not in self.finished)
                heapq.heappush(self.ready, (self.order[left.address], left))

    def _finish(self, address: str) -> None:
        if address in self.finished:
            return
        self.finished.add(address)
        for dependent in self.dependents.get(address, ()):
            self.missing[dependent.address] -= 1
            if self.missing[dependent.address] == 0:
                heapq.heappush(self.ready, (self.order[dependent.address], dependent))

    def _start(self, planned: Change) -> None:
        ctx, result = self.ctx, self.result
        if planned.address in self.finished:
            return
        ctx.upstream[planned.address] = planned
        if planned.action is Action.NOOP:
            self._finish(planned.address)
            return
        address, action = planned.address, planned.action.value
        blockers = [d for d in planned.depends_on if d in self.broken]
        if blockers:
            why = f"depends on {blockers[0]}, which did not apply"
            result.skipped[address] = why
            self.broken.add(address)
            self._finish(address)
            ctx.emit(StepFinished(address, action, "skipped", why))
            return
        change = _refresh(ctx, planned, self.changed)
        ctx.upstream[address] = change
        if change.action is Action.NOOP:
            result.unchanged.append(address)
            self._finish(address)
            ctx.emit(StepFinished(address, action, "unchanged", "found up to date"))
            return
        doing, _ = _VERB[change.action]
        ctx.emit(StepStarted(address, change.action.value, doing, self.estimates.get(address)))
        started = time.monotonic()
        try:
            if change.blocked and (not ctx.force or change.payload.get("protected")):
                raise MlopsError(change.blocked)  # found only now, with facts known after apply
            provider = self.providers.setdefault(change.kind, get_provider(change.kind))
            if getattr(provider, "parallel", False) and change.action is not Action.DELETE:
                if self.threads is None:
                    # Threads wait on workers and pushes more than they compute: plenty of them.
                    workers = ctx.parallelism or os.cpu_count() or 1
                    self.threads = ThreadPoolExecutor(max_workers=16 + 4 * workers, thread_name_prefix="apply")
                self.running[self.threads.submit(_run_step, ctx, provider, change)] = (change, started)
                return
            facts = _run_step(ctx, provider, change)
        except MlopsError as e:
            self._failed(change, started, e)
            return
        self._done(change, started, facts)

    def _failed(self, change: Change, started: float, error: MlopsError) -> None:
        seconds = time.monotonic() - started
        address, action = change.address, change.action.value
        self._finish(address)
        self.journal.step(address, action, "failed", seconds, reasons=change.reasons, error=error.message)
        for line in error.message.splitlines():
            self.run_log.write(address, line)
        self.ctx.emit(StepFinished(address, action, "failed", "failed", seconds, error=error.message))
        self.result.failed[address] = error.message
        self.broken.add(address)

    def _done(self, change: Change, started: float, facts: dict[str, Any] | None) -> None:
        seconds = time.monotonic() - started
        address, action = change.address, change.action.value
        self._finish(address)
        self.journal.step(address, action, "ok", seconds, reasons=change.reasons, facts=facts)
        self.ctx.emit(StepFinished(address, action, "ok", _VERB[change.action][1], seconds))
        self.result.done.append(address)
        self.changed.add(address)
        self.ctx.applied.add(address)
        _pause_point(len(self.result.done))

    def close(self, *, interrupted: bool) -> None:
        """Let providers stop what they started (training workers), then the threads."""
        for provider in self.providers.values():
            closer = getattr(provider, "close", None)
            if closer is not None:
                closer(self.ctx, interrupted=interrupted)
        if self.threads is not None:
            self.threads.shutdown(wait=not interrupted, cancel_futures=interrupted)


def execute(ctx: Context, plan: Plan, journal: Journal) -> ApplyResult:
    """Carry out the plan's changes; raises ApplyError after recording what finished."""
    ctx.destroy = plan.destroy
    ctx.upstream.clear()
    ctx.applied.clear()
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
    walk = _Walk(ctx, plan, journal, run_log, estimates)
    result = walk.result
    try:
        walk.run()
    except BaseException:
        walk.close(interrupted=True)
        journal.finish("interrupted", {"done": len(result.done)})
        ctx.emit(ApplyFinished(False, f"Apply interrupted: {len(result.done)} changed.", time.monotonic() - began,
                               shown_log))
        ctx.run_log = None
        run_log.close()
        raise
    walk.close(interrupted=False)
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
