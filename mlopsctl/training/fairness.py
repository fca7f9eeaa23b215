"""Per-group evaluation: the model's quality on each group of the spec's sensitive columns.

The numbers equal Fairlearn's ``MetricFrame`` (``by_group`` and ``difference()``, the gap
between the best and the worst group), computed here with pandas and numpy: they are a
group-by over the held-out rows, and the trainer should not pull a fairness toolkit (and its
dependencies) into every training run for that. The tests compare them with Fairlearn.

Several sensitive columns make intersectional groups (one group per combination present),
as ``MetricFrame`` does with a DataFrame of sensitive features. Written to
``reports/<model>/fairness.json`` next to the metrics, and checked by the fairness gate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CLASSIFICATION = ("accuracy", "precision", "recall", "selection_rate", "false_positive_rate", "false_negative_rate")
REGRESSION = ("mean_absolute_error", "mean_squared_error")
MISSING = "(missing)"


def metric_names(task: str) -> tuple[str, ...]:
    return REGRESSION if task == "regression" else CLASSIFICATION


def positive_label(classes: list[Any], configured: Any = None) -> Any:
    """The class recall, precision and selection rate count as "positive": the spec's
    ``fairness.positive_label``, else the second of the sorted classes (scikit-learn's
    convention for a binary target)."""
    if configured is not None:
        for c in classes:
            if str(c) == str(configured):
                return c
        return configured
    return classes[1] if len(classes) > 1 else (classes[0] if classes else None)


def _rate(num: np.ndarray, den: np.ndarray) -> float:
    # Fairlearn (via scikit-learn's zero_division default) answers 0.0 for an empty denominator.
    n, d = int(num.sum()), int(den.sum())
    return n / d if d else 0.0


def _classification(pos: Any) -> dict[str, Callable[[np.ndarray, np.ndarray], float]]:
    def ok(t: np.ndarray, p: np.ndarray) -> float:
        return float((t == p).mean())

    return {
        "accuracy": ok,
        "precision": lambda t, p: _rate((p == pos) & (t == pos), p == pos),
        "recall": lambda t, p: _rate((p == pos) & (t == pos), t == pos),
        "selection_rate": lambda t, p: float((p == pos).mean()),
        "false_positive_rate": lambda t, p: _rate((p == pos) & (t != pos), t != pos),
        "false_negative_rate": lambda t, p: _rate((p != pos) & (t == pos), t == pos),
    }


def _regression() -> dict[str, Callable[[np.ndarray, np.ndarray], float]]:
    return {
        "mean_absolute_error": lambda t, p: float(abs(t - p).mean()),
        "mean_squared_error": lambda t, p: float(((t - p) ** 2).mean()),
    }


def group_labels(frame: pd.DataFrame) -> list[str]:
    """One label per row: ``sex=F`` or ``sex=F, race=B`` for several columns."""
    cols = list(frame.columns)
    values = frame.astype(object).where(frame.notna(), MISSING).astype(str)
    return [", ".join(f"{c}={v}" for c, v in zip(cols, row, strict=True)) for row in values.itertuples(index=False)]


def evaluate(y_true: Any, y_pred: Any, sensitive: pd.DataFrame, task: str, pos_label: Any = None) -> dict[str, Any]:
    """The per-group report: every metric overall and per group, group sizes, and each
    metric's gap (largest minus smallest group value) with the groups at both ends."""
    import numpy as np

    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    funcs = _regression() if task == "regression" else _classification(pos_label)
    labels = np.asarray(group_labels(sensitive.reset_index(drop=True)), dtype=object)
    groups: list[dict[str, Any]] = []
    for label in sorted(set(labels.tolist())):
        mask = labels == label
        groups.append({"group": label, "count": int(mask.sum()),
                       "metrics": {name: f(t[mask], p[mask]) for name, f in funcs.items()}})
    gaps: dict[str, Any] = {}
    for name in funcs:
        if not groups:
            continue
        hi = max(groups, key=lambda g: g["metrics"][name])
        lo = min(groups, key=lambda g: g["metrics"][name])
        gaps[name] = {"gap": hi["metrics"][name] - lo["metrics"][name],
                      "highest": {"group": hi["group"], "value": hi["metrics"][name]},
                      "lowest": {"group": lo["group"], "value": lo["metrics"][name]}}
    return {
        "sensitive": [str(c) for c in sensitive.columns],
        "positive_label": None if task == "regression" else _plain(pos_label),
        "rows": len(t),
        "overall": {name: f(t, p) for name, f in funcs.items()},
        "groups": groups,
        "gaps": gaps,
    }


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def summary_lines(report: dict[str, Any], metrics: list[str] | None = None) -> list[str]:
    """``accuracy gap 0.08 (sex=1 0.81, sex=2 0.73)`` per metric, for plans and cards."""
    out = []
    for name, g in (report.get("gaps") or {}).items():
        if metrics is not None and name not in metrics:
            continue
        out.append(f"{name} gap {g['gap']:.4g} ({g['highest']['group']} {g['highest']['value']:.4g}, "
                   f"{g['lowest']['group']} {g['lowest']['value']:.4g})")
    return out
