"""``mlopsctl models [NAME]``: versions, metrics, environment assignments and lineage, from Git tags.

Per environment, the version assigned (the registry) and the version serving with its health
(the engine) are shown apart: they differ while a switch is pending or after one failed.

Reads the registry only (one ``git for-each-ref``); it does not need valid specs, so it also
works on a checkout whose specs are broken or gone. ``--card`` renders a version's Markdown
model card from its tag record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mlopsctl.commands._common import examples, options
from mlopsctl.errors import MlopsError


def _root(start: Path) -> Path:
    from mlopsctl.workspace.git import git_dir
    from mlopsctl.workspace.paths import find_root

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
    return doc.model.description if doc else None


def _project_name(root: Path) -> str | None:
    try:
        from mlopsctl.specs.load import load_project

        return load_project(root).name
    except MlopsError:
        return None


def _serving(name: str, now: dict[tuple[str, str], dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    return {env: facts for (model, env), facts in sorted((now or {}).items()) if model == name}


def _model_json(reg: Any, serving: dict[str, dict[str, Any]], engine_known: bool) -> dict[str, Any]:
    out = {
        "latest": reg.latest.version if reg.latest else None,
        "environments": {env: mv.version if mv.recorded else mv.label for env, mv in sorted(reg.assignments.items())},
        "versions": [{**mv.to_dict(), "environments": reg.environments_of(mv.version)} for mv in reg.versions],
        # What GTO lists besides: versions registered by hand (no record, so never served by mlopsctl)
        # and a deprecation by hand.
        "registered_by_hand": [{"version": mv.name, "tag": mv.tag, "commit": mv.commit} for mv in reg.foreign],
        "deprecated": reg.deprecated.tag.name if reg.deprecated else None,
    }
    # What runs, apart from what is assigned (null: no engine to ask).
    out["serving"] = {env: {k: v for k, v in f.items() if k != "container"} for env, f in serving.items()} \
        if engine_known else None
    return out


def _env_lines(reg: Any, serving: dict[str, dict[str, Any]], engine_known: bool) -> list[str]:
    from mlopsctl.serving.status import describe

    envs = sorted(set(reg.assignments) | set(serving))
    lines = []
    for env in envs:
        mv = reg.assignments.get(env)
        lines.append(f"  {env}: {describe(mv.version if mv else None, serving.get(env), engine_known)}")
    return lines


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


def _text(name: str, reg: Any, detailed: bool, serving: dict[str, dict[str, Any]], engine_known: bool) -> list[str]:
    from mlopsctl.registry.fmt import fmt_number

    if not reg.versions:
        return [f"{name}: no registered versions yet"]
    lines = [f"{name}: {len(reg.versions)} version{'s' if len(reg.versions) != 1 else ''}, latest v{reg.latest.version}"]
    lines += _env_lines(reg, serving, engine_known)
    if reg.deprecated:
        lines.append(f"  deprecated by hand ({reg.deprecated.tag.name}): GTO does not list it until it is assigned again")
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


@click.command("models", epilog=examples(
    "mlopsctl models iris --card --version 3  # the Markdown model card of iris v3",
    "mlopsctl models diff iris@v1 iris@v2  # two versions side by side, with deltas",
))
@click.argument("args", nargs=-1, metavar="[NAME] | diff A B")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="json for scripts; markdown for a pull request (diff).")
@click.option("--card", is_flag=True, help="Print the Markdown model card of a version of NAME.")
@click.option("--version", "version", default="latest", show_default=True, help="Version for --card: N or latest.")
@click.option("--model", "model", default=None, help="diff: the model, when A or B is a branch, tag or commit.")
@click.option("--all", "show_all", is_flag=True, help="diff: also list what is equal on both sides.")
def models(args: tuple[str, ...], fmt: str, card: bool, version: str, model: str | None, show_all: bool) -> None:
    """List model versions, metrics, environment assignments and lineage (all models, or NAME).

    `mlopsctl models diff A B` compares two experiments: registered versions (iris@v1, or v1 with
    --model), branches, tags or commits; params, metrics, data digests and code commit, with deltas.
    """
    from mlopsctl.registry.card import render_card
    from mlopsctl.registry.state import RegistryState

    root = _root(options().cwd)
    if args[:1] == ("diff",):
        from mlopsctl.commands.models_diff import run_diff

        click.echo(run_diff(root, args[1:], model, fmt, changed_only=not show_all), nl=False)
        return
    if len(args) > 1:
        raise MlopsError(f"unexpected arguments {' '.join(args[1:])!r}: `mlopsctl models [NAME]` or "
                         "`mlopsctl models diff A B`")
    name = args[0] if args else None
    if fmt == "markdown" and not card:
        raise MlopsError("--format markdown is for `models diff`; the list is text or json")
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
    from mlopsctl.serving.status import serving

    now = serving(root, _project_name(root)) if names else {}
    engine_known = now is not None
    if fmt == "json":
        doc = {"models": {n: _model_json(state.model(n), _serving(n, now), engine_known) for n in names}}
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    if not names:
        click.echo("No registered model versions yet.")
        return
    out: list[str] = []
    for n in names:
        if out:
            out.append("")
        out.extend(_text(n, state.model(n), bool(name), _serving(n, now), engine_known))
    click.echo("\n".join(out))
