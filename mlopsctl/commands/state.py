from __future__ import annotations

import json
from typing import Any

import click

from mlopsctl.commands._common import Group, examples
from mlopsctl.commands._planning import emit


@click.group(cls=Group, epilog=examples(
    "mlopsctl state list  # what is managed now", "mlopsctl state history -n 5  # the last five applies"))
def state() -> None:
    """Inspect what mlopsctl manages and its apply history."""


@state.command("list", epilog=examples(
    "mlopsctl state list  # one address per line", "mlopsctl state list --format json  # for scripts"))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: a list of {address, last_apply, last_action} on stdout.")
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


@state.command("history", epilog=examples(
    "mlopsctl state history -n 5  # the last five applies, from the Git notes",
    "mlopsctl state history --local  # this machine's step journal"))
@click.option("-n", "limit", type=int, default=20, show_default=True, help="How many applies to show.")
@click.option("--fetch/--no-fetch", default=True, show_default=True,
              help="First fetch the records from origin (refs/notes/mlopsctl).")
@click.option("--local", is_flag=True, help="The step journal of this machine (.mlopsctl/) instead.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the records as a list on stdout.")
def state_history(limit: int, fetch: bool, local: bool, fmt: str) -> None:
    """The audit log: every apply, refused or not; who, on which commit, the plan's digest, each
    change's result and the error text. Kept in Git notes, so every clone reads the same."""
    from mlopsctl.commands._common import err, find_state_dir

    if local:
        _local_history(find_state_dir(), limit)
        return
    from mlopsctl.core.state import read_history

    # The records are in Git, but a broken state folder breaks every apply: say so here too.
    next(iter(read_history(find_state_dir())), None)
    from mlopsctl.commands._common import options
    from mlopsctl.commands.models import _root
    from mlopsctl.core import audit

    root = _root(options().cwd)
    if fetch:
        why = audit.fetch(root)
        if why and not why.startswith("no remote"):
            err(f"note: could not fetch the audit records from origin: {why}")
    records = list(audit.history(root))[-limit:] if limit > 0 else []
    if fmt == "json":
        emit(json.dumps(records, indent=2, sort_keys=True))
        return
    if not records:
        emit("No applies recorded yet (refs/notes/mlopsctl is empty).")
    for r in records:
        emit(_headline(r))
        if r.get("error"):
            emit("    error: " + " ".join(str(r["error"]).split())[:500])
        for c in r.get("changes") or []:
            line = f"    {c.get('status')!s:6} {c.get('action')!s:7} {c.get('address')}"
            if c.get("error"):
                line += "  (" + " ".join(str(c["error"]).split())[:300] + ")"
            emit(line)


def _who(who: dict[str, object]) -> str:
    text = str(who.get("actor") or who.get("name") or "unknown")
    if who.get("email") and not who.get("actor"):
        text += f" <{who['email']}>"
    if who.get("run_url"):
        text += f" ({who['run_url']})"
    return text


def _headline(r: dict[str, object]) -> str:
    commit = str(r.get("commit") or "")[:12] or "no commit"
    digest = str(r.get("plan_digest") or "")
    plan = f" plan {digest.removeprefix('sha256:')[:12]}" if digest else ""
    who = r.get("who") if isinstance(r.get("who"), dict) else {}
    return (f"{r.get('time', '?')}  {r.get('command', 'apply')} {r.get('apply')}: {r.get('status')}  by "
            f"{_who(who)}  on {commit}{plan}")  # type: ignore[arg-type]


def _local_history(state_dir: object, limit: int) -> None:
    from mlopsctl.core.state import read_history

    runs: dict[str, list[dict[str, object]]] = {}
    for rec in read_history(state_dir):  # type: ignore[arg-type]
        runs.setdefault(str(rec.get("apply")), []).append(rec)
    for apply_id in list(runs)[-limit:]:
        recs = runs[apply_id]
        start = next((r for r in recs if r.get("event") == "start"), {})
        end = next((r for r in recs if r.get("event") == "finish"), {"status": "crashed or running"})
        emit(f"{start.get('time', '?')}  {start.get('command', 'apply')} {apply_id}: {end.get('status')}")
        for r in recs:
            if r.get("event") == "step":
                emit(f"    {r.get('status'):6} {r.get('action'):7} {r.get('address')} ({r.get('seconds')}s)")
