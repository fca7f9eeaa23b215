"""Gates: the bar a trained candidate must clear before it becomes a version.

``gates: {accuracy: ">= 0.9", no_worse_than: {environment: production, metric: accuracy, by: 0.02}}``.
scikit-learn's scorers are all "greater is better" (losses are negated, e.g.
``neg_mean_squared_error``), so "no worse than" always means ``>= baseline - by``.
Plain Python: the registry provider imports this at plan time.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlopsctl.errors import MlopsError
from mlopsctl.specs.model_spec import NoWorseThan

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
NO_WORSE_THAN = "no_worse_than"
FAIRNESS = "fairness"
BASELINE = "baseline"
"""``gates: {baseline: false}`` turns off the implicit gate "beats the trivial baseline" (baseline.py)."""
_GATE = re.compile(r"^\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


class GateSyntaxError(MlopsError):
    """A gate expression that is not ``<op> <number>``."""


@dataclass(frozen=True)
class Gate:
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


@dataclass(frozen=True)
class GateResult:
    name: str
    """The gate's key in the spec: a metric name, or ``no_worse_than``."""
    metric: str
    op: str
    threshold: float | None
    value: float | None
    passed: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "metric": self.metric, "op": self.op, "threshold": self.threshold,
                "value": self.value, "passed": self.passed, "message": self.message}


def parse_gate(expr: str | float) -> Gate:
    """``">= 0.9"`` -> Gate(">=", 0.9); GateSyntaxError otherwise."""
    m = _GATE.match(str(expr))
    if not m or isinstance(expr, bool):
        raise GateSyntaxError(
            f"invalid gate {expr!r}: expected an operator (>=, >, <=, <) and a number, e.g. \">= 0.9\""
        )
    return Gate(m.group(1), float(m.group(2)))


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _value(metrics: dict[str, Any], metric: str) -> float | None:
    v = metrics.get(metric)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(float(v)):
        return None
    return float(v)


def check_gates(
    spec_gates: dict[str, Any] | None,
    metrics: dict[str, Any],
    baseline_metrics: dict[str, Any] | None,
    fairness: dict[str, Any] | None = None,
    task: str = "classification",
) -> list[GateResult]:
    """Every gate's result, in spec order. ``baseline_metrics`` are the metrics of the version the
    no-worse-than environment serves now (None when it serves nothing: that gate passes);
    ``fairness`` is the candidate's per-group report (``reports/<model>/fairness.json``)."""
    results: list[GateResult] = []
    for name, expr in (spec_gates or {}).items():
        if name == BASELINE:
            continue  # the implicit gate below
        if name == NO_WORSE_THAN:
            results.append(_no_worse_than(expr or {}, metrics, baseline_metrics))
            continue
        if name == FAIRNESS:
            results.extend(check_fairness(expr or {}, fairness))
            continue
        gate = parse_gate(expr)
        value = _value(metrics, name)
        label = f"gate {name} {gate}"
        if value is None:
            results.append(GateResult(name, name, gate.op, gate.threshold, None, False,
                                      f"{label} not met: the candidate has no {name} metric "
                                      f"(computed: {', '.join(sorted(metrics)) or 'none'})"))
            continue
        passed = OPS[gate.op](value, gate.threshold)
        msg = f"{label} met ({_fmt(value)})" if passed else f"{label} not met by candidate ({_fmt(value)})"
        results.append(GateResult(name, name, gate.op, gate.threshold, value, passed, msg))
    from mlopsctl.training.baseline import SUFFIX
    from mlopsctl.training.baseline import gate as baseline_gate

    verdict = baseline_gate(spec_gates, metrics, task)
    if verdict is not None:
        primary = next(k for k in metrics if f"{k}{SUFFIX}" in metrics and not k.endswith(SUFFIX))
        results.append(GateResult(BASELINE, primary, ">", float(metrics[f"{primary}{SUFFIX}"]),
                                  float(metrics[primary]), verdict[0], verdict[1]))
    return results


def _no_worse_than(rule: dict[str, Any], metrics: dict[str, Any], baseline: dict[str, Any] | None) -> GateResult:
    nwt = NoWorseThan.from_data(rule)
    env, metric, by = nwt.environment, nwt.metric, nwt.by
    value = _value(metrics, metric)
    base = _value(baseline, metric) if baseline is not None else None
    label = f"gate {NO_WORSE_THAN} {metric} (at most {by:g} below {env})"
    if baseline is None or base is None:
        why = f"{env} serves no version yet" if baseline is None else f"the {env} version has no {metric} metric"
        return GateResult(NO_WORSE_THAN, metric, ">=", None, value, True, f"{label} met: {why}")
    threshold = base - by
    if value is None:
        return GateResult(NO_WORSE_THAN, metric, ">=", threshold, None, False,
                          f"{label} not met: the candidate has no {metric} metric")
    passed = value >= threshold
    verdict = "met" if passed else "not met by candidate"
    return GateResult(NO_WORSE_THAN, metric, ">=", threshold, value, passed,
                      f"{label} {verdict} ({_fmt(value)} vs {env} {_fmt(base)}, needs >= {_fmt(threshold)})")


def check_fairness(limits: dict[str, Any], report: dict[str, Any] | None) -> list[GateResult]:
    """``gates.fairness``: each group's size, then each metric's gap between groups, against the
    spec's limits; a refusal names the groups and their values."""
    results: list[GateResult] = []
    min_size = limits.get("min_group_size")
    max_gap = dict(limits.get("max_gap") or {})
    if not (min_size or max_gap):
        return results
    if report is None:
        return [GateResult(FAIRNESS, "fairness", "<=", None, None, False,
                           "gate fairness not met: the candidate has no per-group evaluation "
                           "(fairness.json; the spec's fairness.sensitive names the columns)")]
    groups = list(report.get("groups") or [])
    if min_size:
        small = [g for g in groups if int(g.get("count") or 0) < int(min_size)]
        label = f"gate fairness min_group_size {int(min_size)}"
        if small:
            named = ", ".join(f"{g['group']} has {g['count']}" for g in small)
            results.append(GateResult(f"{FAIRNESS}.min_group_size", "count", ">=", float(min_size),
                                      float(min(g["count"] for g in small)), False,
                                      f"{label} not met: {named} evaluation rows (too few to judge)"))
        else:
            smallest = min((int(g["count"]) for g in groups), default=0)
            results.append(GateResult(f"{FAIRNESS}.min_group_size", "count", ">=", float(min_size), float(smallest),
                                      True, f"{label} met (smallest group {smallest})"))
    for metric, limit in max_gap.items():
        gap = (report.get("gaps") or {}).get(metric)
        label = f"gate fairness {metric} gap <= {float(limit):g}"
        if not isinstance(gap, dict):
            results.append(GateResult(f"{FAIRNESS}.{metric}", metric, "<=", float(limit), None, False,
                                      f"{label} not met: no per-group {metric} was computed"))
            continue
        value = float(gap["gap"])
        hi, lo = gap["highest"], gap["lowest"]
        ends = f"{hi['group']} {_fmt(hi['value'])} vs {lo['group']} {_fmt(lo['value'])}"
        passed = value <= float(limit) + 1e-12
        verdict = "met" if passed else "not met by candidate"
        results.append(GateResult(f"{FAIRNESS}.{metric}", metric, "<=", float(limit), value, passed,
                                  f"{label} {verdict} ({_fmt(value)}: {ends})"))
    return results


def failed(results: list[GateResult]) -> list[GateResult]:
    return [r for r in results if not r.passed]
