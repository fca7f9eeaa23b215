"""A candidate's metrics against the version each environment serves: the numbers a reviewer
needs before merging (shown by the plan and the pull-request comment)."""

from __future__ import annotations

from typing import Any

from mlopsctl.registry.state import ModelRegistry


def served_deltas(metrics: dict[str, float], reg: ModelRegistry, environments: list[str]) -> list[dict[str, Any]]:
    """Per environment (in project order): the version it serves and, for each metric both have,
    ``[served, candidate, candidate - served]``. An environment serving nothing has ``version`` None."""
    out: list[dict[str, Any]] = []
    for env in environments:
        mv = reg.assignments.get(env)
        if mv is None:
            out.append({"environment": env, "version": None, "metrics": {}})
            continue
        rows = {m: [mv.metrics[m], v, v - mv.metrics[m]] for m, v in metrics.items() if m in mv.metrics}
        out.append({"environment": env, "version": mv.version, "metrics": rows})
    return out


def delta_lines(deltas: list[dict[str, Any]], order: list[str]) -> list[str]:
    """``vs production v2: accuracy 0.9211 -> 0.9474 (+0.0263)`` per environment serving a version."""
    lines = []
    for d in deltas:
        if d["version"] is None:
            continue
        names = [m for m in order if m in d["metrics"]] + sorted(m for m in d["metrics"] if m not in order)
        parts = [f"{m} {_num(d['metrics'][m][0])} -> {_num(d['metrics'][m][1])} "
                 f"({'+' if d['metrics'][m][2] >= 0 else '-'}{_num(abs(d['metrics'][m][2]))})" for m in names]
        if parts:
            lines.append(f"vs {d['environment']} v{d['version']}: " + ", ".join(parts))
    return lines


def _num(x: float) -> str:
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"
