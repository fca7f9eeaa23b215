"""The Markdown model card of a version, rendered from its tag record.

The card is not a file in the repository: ``artifacts/<model>/`` is a DVC output, so a card
written there would change the output DVC recorded (and make the stage look modified), and a
card written anywhere else would be an uncommitted file that can drift from the registry.
Everything a card says (digests, metrics, lineage) is in the version's immutable tag message,
so ``mlopsctl models NAME --card`` renders it on demand and it is always true to the registry.
"""

from __future__ import annotations

from typing import Any

from mlopsctl.registry.state import ModelVersion

TEMPLATE = "model_card.md.j2"


def _cell(value: Any) -> str:
    from mlopsctl.files.escape import md_cell

    return md_cell(value)


def _rule_text(rule: Any) -> str:
    if not isinstance(rule, dict):
        return ""
    parts: list[str] = []
    if "min" in rule:
        parts.append(f">= {rule['min']}")
    if "max" in rule:
        parts.append(f"<= {rule['max']}")
    if rule.get("values"):
        parts.append("one of " + ", ".join(str(v) for v in rule["values"]))
    if "max_null_fraction" in rule:
        parts.append(f"nulls <= {rule['max_null_fraction']:.0%}" if isinstance(rule["max_null_fraction"], (int, float))
                     else f"nulls <= {rule['max_null_fraction']}")
    if rule.get("required") is False:
        parts.append("optional")
    return _cell("; ".join(parts))


def card_context(mv: ModelVersion, environments: list[str], description: str | None = None) -> dict[str, Any]:
    lineage = dict(mv.lineage)
    return {
        "model": mv.model,
        "version": mv.version,
        "tag": mv.tag,
        "commit": mv.commit,
        "created_at": mv.created_at,
        "description": description,
        "environments": environments,
        "metrics": dict(mv.metrics),
        "lineage": lineage,
        "data": lineage.get("data") if isinstance(lineage.get("data"), dict) else None,
        "features": lineage.get("features") if isinstance(lineage.get("features"), dict) else None,
        "params": {k: str(v) for k, v in (lineage.get("params") or {}).items()},
        "artifact_path": mv.artifact_path or f"artifacts/{mv.model}/model.joblib",
        "artifact_md5": mv.artifact_md5,
        "artifact_sha256": mv.artifact_sha256,
        "fairness": _fairness_rows(mv.fairness),
        "registered_by": _who(mv.registered_by),
        "trained_by": _who(lineage.get("trained_by") if isinstance(lineage.get("trained_by"), dict) else None),
    }


def _who(who: dict[str, Any] | None) -> str | None:
    """``Ada <ada@example.com>`` or ``octocat (CI run https://...)``."""
    if not who:
        return None
    text = str(who.get("name") or who.get("actor") or "unknown")
    if who.get("email"):
        text += f" <{who['email']}>"
    if who.get("actor") and who.get("name") and who.get("actor") != who.get("name"):
        text += f", CI actor {who['actor']}"
    if who.get("run_url"):
        text += f" (run {who['run_url']})"
    return _cell(text)


def _fairness_rows(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The per-group table of the card: one row per group, one column per metric, and the gaps."""
    if not report or not report.get("groups"):
        return None
    names = list((report["groups"][0].get("metrics") or {}).keys())
    rows = [{"group": _cell(g["group"]), "count": g["count"],
             "cells": ["{:.4f}".format(g["metrics"][n]) for n in names]} for g in report["groups"]]
    gaps = ["{:.4f}".format((report.get("gaps") or {}).get(n, {}).get("gap", float("nan"))) for n in names]
    return {"sensitive": ", ".join(report.get("sensitive") or []), "metrics": names, "rows": rows, "gaps": gaps,
            "positive_label": report.get("positive_label")}


def render_card(mv: ModelVersion, environments: list[str], description: str | None = None) -> str:
    """The card as Markdown (sandboxed Jinja2, every variable must exist)."""
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    from mlopsctl.workspace.paths import TEMPLATES

    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    from mlopsctl.files.escape import FILTERS

    env.filters.update(FILTERS, rule_text=_rule_text)
    # StrictUndefined makes a missing lineage key an error; lineage from older or custom runs may
    # lack keys, so the template reads it through a dict that answers None for what is absent.
    ctx = card_context(mv, environments, description)
    ctx["lineage"] = _Lenient(ctx["lineage"])
    ctx["data"] = _Lenient(ctx["data"]) if ctx["data"] else None
    return env.get_template(TEMPLATE).render(**ctx)


class _Lenient(dict):  # type: ignore[type-arg]
    """A dict whose missing keys read as None in templates (lineage is open-ended)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get(name)
