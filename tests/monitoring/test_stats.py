"""The drift numbers against references: scipy.stats for KS and chi-square, the textbook PSI,
and synthetic shifts of known size (no shift stays quiet, a one-sd shift always alarms)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from mlopsctl.monitoring import stats
from mlopsctl.monitoring.drift import compare
from mlopsctl.monitoring.profile import build_profile


@pytest.mark.parametrize(("n1", "n2", "shift"), [(40, 60, 0.0), (500, 300, 0.3), (5000, 20000, 0.05),
                                                 (5000, 200_000, 0.0), (3000, 3000, 1.0)])
def test_ks_equals_scipy(n1: int, n2: int, shift: float) -> None:
    rng = np.random.default_rng(n1 + n2)
    a, b = rng.normal(size=n1), rng.normal(shift, 1.0, size=n2)
    ours, ref = stats.ks_2samp(a, b), sps.ks_2samp(a, b)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-6)


def test_ks_with_ties_equals_scipy() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 5, 3000).astype(float), rng.integers(0, 6, 50_000).astype(float)
    ours, ref = stats.ks_2samp(a, b), sps.ks_2samp(a, b)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-6)


@pytest.mark.parametrize("k", [2, 3, 7])
def test_chi2_equals_scipy(k: int) -> None:
    rng = np.random.default_rng(k)
    r, c = rng.integers(5, 500, k), rng.integers(5, 500, k)
    ours = stats.chi2_homogeneity(r, c)
    ref = sps.chi2_contingency(np.vstack([r, c]), correction=False)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-6)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-6)


def test_chi2_drops_categories_neither_side_has() -> None:
    ours = stats.chi2_homogeneity([10, 0, 20], [12, 0, 18])
    ref = sps.chi2_contingency(np.array([[10, 20], [12, 18]]), correction=False)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-9)


def test_psi_textbook_with_epsilon_floor() -> None:
    r, c = [0.5, 0.3, 0.2, 0.0], [0.4, 0.3, 0.2, 0.1]
    expected = sum((ci - ri) * math.log(ci / ri) for ri, ci in zip([0.5, 0.3, 0.2, 1e-4], c, strict=True))
    assert stats.psi(r, c) == pytest.approx(expected, rel=1e-12)
    assert stats.psi(r, r) == 0.0


def test_bins_open_ended_and_closed_on_the_right() -> None:
    edges = stats.quantile_edges(np.arange(1.0, 101.0))
    assert len(edges) == 9
    counts = stats.bin_counts(np.array([-1e9, edges[0], edges[0] + 1e-9, 1e9]), edges)
    assert counts[0] == 2 and counts[1] == 1 and counts[-1] == 1 and counts.sum() == 4


def test_quantile_edges_of_discrete_data_are_unique() -> None:
    assert stats.quantile_edges(np.array([1.0] * 50 + [2.0] * 50)) == [1.0, 1.5, 2.0]


FEATURES = {f"x{i}": {"type": "float"} for i in range(5)} | {"colour": {"type": "category"}}


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0, colours: tuple[float, ...] = (0.5, 0.3, 0.2)
           ) -> pd.DataFrame:
    data = {f"x{i}": rng.normal(10 + shift * 2.0, 2.0, n) for i in range(5)}
    data["colour"] = rng.choice(["red", "green", "blue"], n, p=list(colours))
    return pd.DataFrame(data)


@pytest.mark.slow
def test_no_shift_no_alarm_on_95_percent_of_seeds() -> None:
    alarms = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        prof = build_profile(_frame(rng, 3000), None, FEATURES, "classification")
        report = compare(prof, _frame(rng, 1000), FEATURES)
        alarms += report.drifted
    assert alarms <= 2  # >= 95% of 40 seeds quiet


@pytest.mark.parametrize("method", ["psi", "ks"])
@pytest.mark.slow
def test_one_sd_mean_shift_always_alarms(method: str) -> None:
    for seed in range(40):
        rng = np.random.default_rng(1000 + seed)
        prof = build_profile(_frame(rng, 3000), None, FEATURES, "classification")
        cur = _frame(rng, 1000)
        cur["x3"] = cur["x3"] + 2.0  # one standard deviation
        report = compare(prof, cur, FEATURES, method=method, threshold=0.2)
        assert report.drifted and report.features[0].name == "x3", (seed, report.headline())
        assert [f.name for f in report.drifted_features] == ["x3"]


def test_category_shift_and_unseen_category() -> None:
    rng = np.random.default_rng(7)
    prof = build_profile(_frame(rng, 3000), None, FEATURES, "classification")
    cur = _frame(rng, 1000, colours=(0.1, 0.3, 0.6))
    cur.loc[:49, "colour"] = "purple"
    report = compare(prof, cur, FEATURES)
    colour = next(f for f in report.features if f.name == "colour")
    assert colour.drifted and colour.test == "chi2" and colour.pvalue < 1e-6
    assert colour.bins[-1] == "(unseen)" and colour.current[-1] == pytest.approx(0.05)


def test_ks_in_report_is_against_the_stored_sample() -> None:
    rng = np.random.default_rng(3)
    big = _frame(rng, 20_000)
    prof = build_profile(big, None, FEATURES, "classification")
    sample = np.array(prof["features"]["x0"]["sample"])
    assert sample.size == 5000 and np.all(np.diff(sample) >= 0)
    cur = _frame(rng, 800, shift=0.1)
    report = compare(prof, cur, FEATURES)
    x0 = next(f for f in report.features if f.name == "x0")
    ref = sps.ks_2samp(sample, cur["x0"].to_numpy())
    assert x0.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert x0.pvalue == pytest.approx(ref.pvalue, abs=1e-6)
    # the profile is deterministic: the same data gives the same sample
    assert build_profile(big, None, FEATURES, "classification")["features"]["x0"]["sample"] == list(sample)


def test_missing_and_out_of_contract_shares() -> None:
    feats = {"a": {"type": "float", "min": 0, "max": 10}, "c": {"type": "category", "values": ["x", "y"]}}
    ref = pd.DataFrame({"a": np.linspace(0, 10, 100), "c": ["x", "y"] * 50})
    prof = build_profile(ref, None, feats, "classification")
    cur = pd.DataFrame({"a": ["1", "oops", None, "20", "5"] * 20, "c": ["x", "z", None, "y", "x"] * 20})
    report = compare(prof, cur, feats)
    a = next(f for f in report.features if f.name == "a")
    c = next(f for f in report.features if f.name == "c")
    assert a.missing_current == pytest.approx(0.2) and a.out_of_contract == pytest.approx(0.4)
    assert c.missing_current == pytest.approx(0.2) and c.out_of_contract == pytest.approx(0.2)


def test_prediction_shift_classification_and_regression() -> None:
    feats = {"a": {"type": "float"}}
    ref = pd.DataFrame({"a": np.arange(300.0)})
    prof = build_profile(ref, np.array(["yes", "no", "no"] * 100), feats, "classification")
    same = compare(prof, ref, feats, predictions=np.array(["yes", "no", "no"] * 100))
    moved = compare(prof, ref, feats, predictions=np.array(["yes"] * 300))
    assert same.prediction is not None and not same.prediction.drifted
    assert moved.prediction is not None and moved.prediction.drifted and moved.drifted
    rprof = build_profile(ref, np.arange(300.0) / 3, feats, "regression")
    shifted = compare(rprof, ref, feats, predictions=np.arange(300.0) / 3 + 60)
    assert shifted.prediction is not None and shifted.prediction.kind == "numeric" and shifted.prediction.drifted
