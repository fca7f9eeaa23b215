from __future__ import annotations

import json
from typing import Any

import click

from mlopsctl.commands._planning import emit


@click.group()
def state() -> None:
    """Inspect what mlopsctl manages and its apply history."""


@state.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def state_list(fmt: str) -> None:
    """Resources mlopsctl manages that exist now, with their last apply."""
    from mlopsctl.commands._common import load_project, make_context
    from mlopsctl.commands._planning import flush_caches
    from mlopsctl.core.graph import kind_rank
    from mlopsctl.core.plan import existing
    from mlopsctl.core.state import last_steps

    ctx = make_context(load_project())
    found = sorted(existing(ctx), key=lambda a: (kind_rank(a), a))
    flush_caches(ctx)
    steps = last_steps(ctx.state_dir)
    rows = [{"address": a, "last_apply": steps.get(a, {}).get("time"), "last_action": steps.get(a, {}).get("action")}
            for a in found]
    _add_serving(ctx, rows)
    if fmt == "json":
        emit(json.dumps(rows, indent=2))
        return
    for r in rows:
        when = f"  (last {r['last_action']} {r['last_apply']})" if r["last_apply"] else ""
        emit(f"{r['address']}{when}" + (f"\n    {r['status']}" if r.get("status") else ""))
    if not rows:
        emit("Nothing managed yet: run `mlopsctl apply`.")


def _add_serving(ctx: Any, rows: list[dict[str, Any]]) -> None:
    """Deployments and assignments get "assigned vN, serving vM (health)": sync and health apart."""
    if not any(r["address"].startswith(("registry.", "deployment.")) for r in rows):
        return
    from mlopsctl.registry.api import state_for
    from mlopsctl.serving.status import describe, serving

    now = serving(ctx.root, ctx.project.name)
    registry = state_for(ctx)
    for r in rows:
        kind, _, name = r["address"].partition(".")
        if kind not in ("registry", "deployment"):
            continue
        model, _, env = name.partition(".")
        mv = registry.model(model).assignments.get(env)
        facts = (now or {}).get((model, env))
        r["assigned"] = mv.version if mv else None
        r["serving"] = {k: v for k, v in facts.items() if k != "container"} if facts else None
        r["status"] = describe(r["assigned"], facts, now is not None)


@state.command("history")
@click.option("-n", "limit", type=int, default=20, show_default=True, help="How many applies to show.")
def state_history(limit: int) -> None:
    """The apply history (audit log): who changed what, when, and how long it took."""
    from mlopsctl.commands._common import find_state_dir
    from mlopsctl.core.state import read_history

    runs: dict[str, list[dict[str, object]]] = {}
    for rec in read_history(find_state_dir()):
        runs.setdefault(str(rec.get("apply")), []).append(rec)
    for apply_id in list(runs)[-limit:]:
        recs = runs[apply_id]
        start = next((r for r in recs if r.get("event") == "start"), {})
        end = next((r for r in recs if r.get("event") == "finish"), {"status": "crashed or running"})
        emit(f"{start.get('time', '?')}  {start.get('command', 'apply')} {apply_id}: {end.get('status')}")
        for r in recs:
            if r.get("event") == "step":
                emit(f"    {r.get('status'):6} {r.get('action'):7} {r.get('address')} ({r.get('seconds')}s)")
