"""``mlopsctl models [NAME]``: versions, metrics, environment assignments and lineage, from Git tags.

Reads the registry only (one ``git for-each-ref``); it does not need valid specs, so it also
works on a checkout whose specs are broken or gone. ``--card`` renders a version's Markdown
model card from its tag record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mlopsctl.commands._common import options
from mlopsctl.errors import MlopsError


def _root(start: Path) -> Path:
    from mlopsctl.specs.load import find_root
    from mlopsctl.workspace.git import git_dir

    try:
        return find_root(start)
    except MlopsError:
        gdir = git_dir(start)
        if gdir is None:
            raise MlopsError(f"{start} is not inside a Git repository; the model registry lives in Git tags") from None
        return gdir.parent


def _description(root: Path, model: str) -> str | None:
    """The spec's description for the card, when the spec loads; the card does not need it."""
    try:
        from mlopsctl.specs.load import load_project

        doc = load_project(root).models.get(model)
    except MlopsError:
        return None
    return str(doc.data.get("description")) if doc and doc.data.get("description") else None


def _model_json(reg: Any) -> dict[str, Any]:
    return {
        "latest": reg.latest.version if reg.latest else None,
        "environments": {env: mv.version if mv.recorded else mv.label for env, mv in sorted(reg.assignments.items())},
        "versions": [{**mv.to_dict(), "environments": reg.environments_of(mv.version)} for mv in reg.versions],
        # What GTO lists besides: versions registered by hand (no record, so never served by mlopsctl)
        # and a deprecation by hand.
        "registered_by_hand": [{"version": mv.name, "tag": mv.tag, "commit": mv.commit} for mv in reg.foreign],
        "deprecated": reg.deprecated.tag.name if reg.deprecated else None,
    }


def _short(value: Any, n: int = 12) -> str:
    return str(value)[:n] if value else "?"


def _lineage_line(mv: Any) -> str:
    lin = mv.lineage
    data = lin.get("data") if isinstance(lin.get("data"), dict) else {}
    parts = []
    if data:
        parts.append(f"data {data.get('path', '?')} (sha256 {_short(data.get('sha256'))}, {data.get('rows', '?')} rows)")
    parts.append(f"code {_short(lin.get('code_commit'))}")
    if lin.get("estimator"):
        params = ", ".join(f"{k}={v}" for k, v in sorted((lin.get("params") or {}).items()))
        parts.append(f"{str(lin['estimator']).rpartition('.')[2]}({params})")
    parts.append(f"scikit-learn {lin.get('sklearn') or '?'}, Python {lin.get('python') or '?'}, mlopsctl {lin.get('mlopsctl') or '?'}")
    return "; ".join(parts)


def _text(name: str, reg: Any, detailed: bool) -> list[str]:
    from mlopsctl.registry.fmt import fmt_number

    if not reg.versions:
        return [f"{name}: no registered versions yet"]
    lines = [f"{name}: {len(reg.versions)} version{'s' if len(reg.versions) != 1 else ''}, latest v{reg.latest.version}"]
    if reg.deprecated:
        lines.append(f"  deprecated by hand ({reg.deprecated.tag.name}): GTO does not list it until it is assigned again")
    if reg.assignments:
        lines.append("  serving: " + ", ".join(f"{env} {mv.label}" for env, mv in sorted(reg.assignments.items())))
    if reg.foreign:
        lines.append("  registered by hand, without a record (cannot be served): "
                     + ", ".join(f"{mv.name} ({mv.commit[:12]})" for mv in reg.foreign))
    metric_names = sorted({m for mv in reg.versions for m in mv.metrics})
    header = ["VERSION", "REGISTERED", "COMMIT", *metric_names, "ENVIRONMENTS"]
    rows = [
        [f"v{mv.version}", mv.created_at.replace("+00:00", "Z"), mv.commit[:12],
         *(fmt_number(mv.metrics[m]) if m in mv.metrics else "-" for m in metric_names),
         ", ".join(reg.environments_of(mv.version)) or "-"]
        for mv in reversed(reg.versions)
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        lines.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    shown = list(reversed(reg.versions)) if detailed else [reg.latest]
    for mv in shown:
        lines.append(f"  lineage v{mv.version}: {_lineage_line(mv)}")
    return lines


@click.command("models")
@click.argument("name", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--card", is_flag=True, help="Print the Markdown model card of a version of NAME.")
@click.option("--version", "version", default="latest", show_default=True, help="Version for --card: N or latest.")
def models(name: str | None, fmt: str, card: bool, version: str) -> None:
    """List model versions, metrics, environment assignments and lineage (all models, or NAME)."""
    from mlopsctl.registry.card import render_card
    from mlopsctl.registry.state import RegistryState

    root = _root(options().cwd)
    state = RegistryState.read(root)
    if card:
        if not name:
            raise MlopsError("--card needs a model NAME, e.g. `mlopsctl models iris --card`")
        reg = state.model(name)
        mv = reg.resolve(version)
        if mv is None:
            known = ", ".join(f"v{v.version}" for v in reg.versions) or "none"
            raise MlopsError(f"{name} has no registered version {version!r} (registered: {known})")
        click.echo(render_card(mv, reg.environments_of(mv.version), _description(root, name)), nl=False)
        return
    names = [name] if name else sorted(n for n, r in state.models.items() if r.versions or r.foreign)
    if fmt == "json":
        doc = {"models": {n: _model_json(state.model(n)) for n in names}}
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    if not names:
        click.echo("No registered model versions yet.")
        return
    out: list[str] = []
    for n in names:
        if out:
            out.append("")
        out.extend(_text(n, state.model(n), detailed=bool(name)))
    click.echo("\n".join(out))
