"""Metric values as people read them in plans, logs and listings."""

from __future__ import annotations

from collections.abc import Iterable


def fmt_number(x: float) -> str:
    """Metric values for people: at most four decimals, no trailing zeros."""
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def metrics_text(metrics: dict[str, float], order: Iterable[str] = ()) -> str:
    names = [m for m in order if m in metrics] + sorted(m for m in metrics if m not in set(order))
    return ", ".join(f"{m} {fmt_number(metrics[m])}" for m in names)
