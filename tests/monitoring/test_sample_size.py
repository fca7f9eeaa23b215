"""Drift verdicts respect sample size: the default minimum keeps false alarms on unshifted data at
or under 5% over many seeds, and below it the verdict is "not enough data", never drift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlopsctl.monitoring.drift import DEFAULT_MIN_FEATURE_ROWS, DEFAULT_MIN_ROWS, compare
from mlopsctl.monitoring.profile import build_profile
from mlopsctl.monitoring.report import render_markdown, render_text

FEATURES = {f"x{i}": {"type": "float"} for i in range(4)} | {"colour": {"type": "category"}}
SEEDS = 200


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    data: dict[str, object] = {f"x{i}": rng.normal(10.0, 2.0, n) for i in range(4)}
    data["colour"] = rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2])
    return pd.DataFrame(data)


def _predictions(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(["a", "b", "c"], n, p=[0.4, 0.35, 0.25])


def _false_alarms(method: str, reference_rows: int, current_rows: int) -> float:
    alarms = 0
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        prof = build_profile(_frame(rng, reference_rows), _predictions(rng, reference_rows), FEATURES,
                             "classification")
        report = compare(prof, _frame(rng, current_rows), FEATURES, predictions=_predictions(rng, current_rows),
                         method=method, threshold=0.2)
        alarms += report.drifted
    return alarms / SEEDS


@pytest.mark.slow
@pytest.mark.parametrize("method", ["psi", "ks"])
@pytest.mark.parametrize("reference_rows", [300, 5000])
def test_default_minimum_keeps_false_alarms_at_or_under_5_percent(method: str, reference_rows: int) -> None:
    # Exactly the minimum, six checks per report (4 numeric, 1 categorical, the prediction).
    assert _false_alarms(method, reference_rows, DEFAULT_MIN_ROWS) <= 0.05


def test_half_the_minimum_would_alarm_often_with_psi() -> None:
    """Why the minimum exists: scored as usual, 100 unshifted rows raise PSI past 0.2 on many seeds."""
    rates = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        prof = build_profile(_frame(rng, 1000), None, FEATURES, "classification")
        report = compare(prof, _frame(rng, 100), FEATURES, min_rows=1, min_feature_rows=1)
        rates.append(report.drifted)
    assert sum(rates) / len(rates) > 0.1


def test_below_the_minimum_the_verdict_is_not_enough_data_never_drift() -> None:
    rng = np.random.default_rng(0)
    prof = build_profile(_frame(rng, 1000), _predictions(rng, 1000), FEATURES, "classification")
    cur = _frame(rng, 2)
    cur["x0"] = cur["x0"] + 50.0  # wildly shifted, but two rows say nothing
    report = compare(prof, cur, FEATURES, predictions=_predictions(rng, 2))
    assert not report.drifted and not report.enough and report.verdict == "not enough data"
    assert report.headline() == f"not enough data (2 rows, need {DEFAULT_MIN_ROWS})"
    assert all(f.too_few == f"not enough data (2 rows, need {DEFAULT_MIN_ROWS})" for f in report.features)
    text = render_text(report)
    assert "not enough data (2 rows, need 200); no verdict below monitor.drift.min_rows" in text
    assert "DRIFT" not in text
    assert "DRIFT" not in render_markdown(report)
    d = report.to_dict()
    assert d["verdict"] == "not enough data" and d["drifted"] is False and d["min_rows"] == DEFAULT_MIN_ROWS


def test_a_feature_with_too_few_values_never_drifts_while_others_do() -> None:
    rng = np.random.default_rng(1)
    prof = build_profile(_frame(rng, 2000), None, FEATURES, "classification")
    cur = _frame(rng, 400)
    cur.loc[cur.index[:300], "x1"] = np.nan  # 100 values left
    cur["x1"] = cur["x1"] + 50.0
    cur["x2"] = cur["x2"] + 4.0
    report = compare(prof, cur, FEATURES)
    by_name = {f.name: f for f in report.features}
    assert by_name["x1"].too_few == f"not enough data (100 rows, need {DEFAULT_MIN_FEATURE_ROWS})"
    assert not by_name["x1"].drifted
    assert "x1: not enough data (100 rows, need 200): its score does not count" in render_text(report)
    assert report.drifted and [f.name for f in report.drifted_features] == ["x2"]


def test_minimums_are_settable() -> None:
    rng = np.random.default_rng(2)
    prof = build_profile(_frame(rng, 1000), None, FEATURES, "classification")
    cur = _frame(rng, 50)
    cur["x0"] = cur["x0"] + 6.0
    report = compare(prof, cur, FEATURES, min_rows=20, min_feature_rows=20)
    assert report.enough and report.drifted
    assert compare(prof, cur, FEATURES, min_rows=60).headline() == "not enough data (50 rows, need 60)"
