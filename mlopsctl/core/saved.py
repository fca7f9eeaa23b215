"""Applying a saved plan: derive it again from the current specs and state, and compare.

A plan file is what someone reviewed, never something to execute as written. Apply computes
the plan again with the saved plan's inputs (targets, excludes, destroy, options and time) and
carries out that re-derived plan, and only when it equals the saved one change by change:
address, order, action, before, after, reasons, blocked, requires, dependencies, diff and
payload. Any difference (reality moved, or the file was edited: a path, a mode, a parameter,
an added or removed change) is refused with the differences listed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mlopsctl.core.context import Context
from mlopsctl.core.model import Plan
from mlopsctl.errors import StalePlanError

_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")
_MAX_LISTED = 20
_MAX_VALUE = 80


def rederive(ctx: Context, saved: Plan, *, integrity: str | None = None) -> Plan:
    """The plan computed now with the saved plan's inputs; StalePlanError unless it equals ``saved``.

    ``integrity`` is a problem found with the file itself (its digest), listed first.
    """
    from mlopsctl.core.plan import compute_plan

    problems = [integrity] if integrity else []
    if not _TIME.fullmatch(saved.created_at or ""):
        problems.append(f"created_at {_short(saved.created_at)} is not a time `mlopsctl plan -o` writes")
    unknown = sorted(set(saved.options) - set(ctx.plan_options()))
    if unknown:
        problems.append(f"unknown options {', '.join(map(_short, unknown))}")
    ctx.force = bool(saved.options.get("force"))
    ctx.allow_destroy_protected = bool(saved.options.get("allow_destroy_protected"))
    ctx.allow_no_models = bool(saved.options.get("allow_no_models"))
    if _TIME.fullmatch(saved.created_at or ""):
        ctx.now = saved.created_at
    fresh = compute_plan(ctx, targets=saved.targets, excludes=saved.excludes, destroy=saved.destroy)
    problems += differences(saved, fresh)
    if problems:
        _refuse(problems)
    return fresh


def _refuse(problems: list[str]) -> None:
    listing = "\n".join(f"  - {p}" for p in problems[:_MAX_LISTED])
    if len(problems) > _MAX_LISTED:
        listing += f"\n  ... and {len(problems) - _MAX_LISTED} more"
    raise StalePlanError(
        "the saved plan is not what a plan computed now gives, so nothing was applied "
        "(reality moved since it was made, or the plan file was edited):\n"
        f"{listing}\nRun `mlopsctl plan` again and review the new plan."
    )


def differences(saved: Plan, fresh: Plan) -> list[str]:
    """Every way ``saved`` differs from ``fresh``, one line each, worded for a reviewer."""
    out: list[str] = []
    if saved.project != fresh.project:
        out.append(f"project {_short(saved.project)} in the saved plan, {_short(fresh.project)} now")
    _leaves("warnings", _plain(list(saved.warnings)), _plain(list(fresh.warnings)), out)
    old = {c.address: c for c in saved.changes}
    new = {c.address: c for c in fresh.changes}
    if len(old) != len(saved.changes):
        out.append("the saved plan lists a resource twice")
    for address, change in old.items():
        if address not in new:
            out.append(f"{_name(address)}: in the saved plan ({change.action.value}), not in a plan made now")
    for address, change in new.items():
        if address not in old:
            out.append(f"{_name(address)}: in a plan made now ({change.action.value}), not in the saved plan")
    common = [a for a in old if a in new]
    if common != [a for a in new if a in old]:
        out.append("the changes are in another order than a plan made now puts them")
    for address in common:
        _leaves(_name(address), _plain(old[address].to_dict()), _plain(new[address].to_dict()), out)
    return out


def _plain(value: Any) -> Any:
    """The JSON form both sides share (tuples as lists, keys as strings), as a saved file holds it."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _leaves(where: str, a: Any, b: Any, out: list[str]) -> None:
    """One line per leaf where ``a`` (saved) and ``b`` (now) differ."""
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in b:
                out.append(f"{where}.{key}: {_short(a[key])} in the saved plan, absent now")
            elif key not in a:
                out.append(f"{where}.{key}: absent in the saved plan, {_short(b[key])} now")
            else:
                _leaves(f"{where}.{key}", a[key], b[key], out)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _leaves(f"{where}[{i}]", x, y, out)
        return
    out.append(f"{where}: {_short(a)} in the saved plan, {_short(b)} now")


def _name(address: str) -> str:
    return address if address.isprintable() and len(address) <= _MAX_VALUE else _short(address)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."
