"""The machine-readable plan, shaped like ``terraform show -json`` so existing habits and tools
(``jq '.resource_changes[] | select(.change.actions != ["no-op"])'``) carry over.

Terraform's fields keep their names and meaning (``format_version``, ``resource_changes[]`` with
``address``, ``type``, ``name``, ``change.actions``, ``change.before``, ``change.after``); ours sit
beside them on each resource change, as Terraform's ``action_reason`` does. The apply payload (e.g.
rendered file contents) is never included: it is for apply, not for readers. Keys come out in a
fixed order and nested mappings sorted, so the same plan always gives the same bytes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mlopsctl.core.model import FORMAT_VERSION, Action

if TYPE_CHECKING:
    from mlopsctl.core.model import Change, Plan


def render_json(plan: Plan) -> str:
    """The plan as one JSON document (indented, ending with a newline)."""
    return json.dumps(plan_document(plan), indent=2, ensure_ascii=False) + "\n"


def plan_document(plan: Plan) -> dict[str, Any]:
    """The JSON document as Python data, for callers that embed it (e.g. a CI summary)."""
    from mlopsctl import __version__

    counts = plan.counts()
    pending = plan.pending
    return {
        "format_version": FORMAT_VERSION,
        "mlopsctl_version": plan.mlopsctl_version or __version__,
        "timestamp": plan.created_at,
        "project": plan.project,
        "destroy": plan.destroy,
        "targets": list(plan.targets),
        "excludes": list(plan.excludes),
        "has_changes": plan.has_changes,
        "summary": {
            "add": counts["add"],
            "change": counts["change"],
            "destroy": counts["destroy"],
            "no_op": len(plan.changes) - len(pending),
            "blocked": sum(1 for c in pending if c.blocked),
        },
        "resource_changes": [_resource_change(c) for c in plan.changes],
        "warnings": list(plan.warnings),
        "pins": _sorted(plan.pins),
    }


def _resource_change(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "type": change.kind,
        "name": change.name,
        "model": change.model,
        "change": {
            "actions": change.action.terraform_actions,
            "before": _sorted(change.before),
            "after": None if change.action is Action.DELETE else _sorted(change.after),
        },
        "reasons": list(change.reasons),
        "diff": change.diff,
        "blocked": change.blocked,
        "requires": change.requires,
        "depends_on": list(change.depends_on),
        "source": None if change.source is None else str(change.source),
    }


def _sorted(value: Any) -> Any:
    """Mappings with sorted keys at every depth; a set-like order never leaks into the output."""
    if isinstance(value, dict):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [_sorted(v) for v in value]
    return value
