"""A drift check counted chunk by chunk: the same numbers as the whole frame at once, and as
scipy; a CSV read in chunks with its header checked first."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from mlopsctl.errors import MlopsError
from mlopsctl.monitoring import current, drift, stats
from mlopsctl.monitoring.check import measure
from mlopsctl.monitoring.current import read_file
from mlopsctl.monitoring.drift import Comparison, compare
from mlopsctl.monitoring.profile import build_profile

FEATURES: dict[str, dict[str, Any]] = {
    "x": {"type": "float", "min": -3, "max": 3},
    "ties": {"type": "float"},
    "n": {"type": "int"},
    "colour": {"type": "category", "values": ["red", "green", "blue"]},
    "code": {"type": "category"},
    "flag": {"type": "bool"},
}


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    x = rng.normal(shift, 1.0, n)
    x[rng.random(n) < 0.02] = np.nan
    return pd.DataFrame({
        "x": x,
        "ties": np.round(rng.normal(shift, 1.0, n), 1),  # many values equal to sample points
        "n": rng.integers(0, 20, n),
        "colour": rng.choice(["red", "green", "blue", "purple"], n, p=[0.5, 0.3, 0.15, 0.05]),
        "code": rng.choice(["01", "2", "003"], n),
        "flag": rng.choice(["true", "false", "yes"], n),
    })


def _profile(rng: np.random.Generator) -> dict[str, Any]:
    ref = _frame(rng, 20_000)
    return build_profile(ref, np.where(ref["x"] > 0, "yes", "no"), FEATURES, "classification", "m")


class Model:
    """Enough of a fitted pipeline for drift: predicts from the typed rows it is given."""

    feature_names_in_ = np.array(list(FEATURES))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        assert X["x"].dtype == "float64" and X["code"].map(type).eq(str).all()
        return np.where(X["x"].fillna(0) > 0.1, "yes", "no")


def _numbers(report: drift.DriftReport) -> list[dict[str, Any]]:
    rows = [*report.features, *([report.prediction] if report.prediction else [])]
    return sorted((asdict(f) for f in rows), key=lambda d: d["name"])


@pytest.mark.parametrize("rows", [3_000, 30_000])  # exact p-values (<= 10,000 values) and asymptotic
def test_chunks_give_the_numbers_of_the_whole_frame_and_of_scipy(rows: int, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    rng = np.random.default_rng(rows)
    prof = _profile(rng)
    typed = _frame(rng, rows, shift=0.2)
    preds = Model().predict(typed)
    cur = typed.assign(x=typed["x"].astype(object))
    cur.loc[5, "x"] = "oops"  # a value that is no number: out of contract, not a crash
    whole = compare(prof, cur, FEATURES, predictions=preds)
    monkeypatch.setattr(drift, "CHUNK_ROWS", 777)
    chunked = compare(prof, cur, FEATURES, predictions=preds)
    assert _numbers(chunked) == _numbers(whole)
    for f in whole.features:
        if f.test == "ks":
            sample = np.asarray(prof["features"][f.name]["sample"])
            values = pd.to_numeric(cur[f.name], errors="coerce").to_numpy(dtype="float64")
            ref = sps.ks_2samp(sample, values[~np.isnan(values)])
            assert f.statistic == pytest.approx(ref.statistic, abs=1e-12)
            assert f.pvalue == pytest.approx(ref.pvalue, abs=1e-6)
    x = next(f for f in whole.features if f.name == "x")
    values = pd.to_numeric(cur["x"], errors="coerce").to_numpy(dtype="float64")
    edges = prof["features"]["x"]["edges"]
    assert x.current == [float(s) for s in stats.shares(stats.bin_counts(values[~np.isnan(values)], edges))]
    assert x.out_of_contract == pytest.approx((1 + _outside(cur["x"])) / rows)
    assert sum(f.test == "ks" for f in whole.features) == 3


def _outside(col: pd.Series) -> int:
    v = pd.to_numeric(col, errors="coerce")
    return int(((v < -3) | (v > 3)).sum())


def test_a_csv_read_in_chunks_and_predicted_per_chunk_equals_the_whole(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    prof = _profile(rng)
    cur = _frame(rng, 25_000, shift=0.5).assign(target="t", extra=1)
    path = tmp_path / "cur.csv"
    cur.to_csv(path, index=False)
    monkeypatch.setattr(current, "CHUNK_ROWS", 4_000)
    check = Comparison(prof, FEATURES)
    measure(check, read_file(path, "cur.csv", FEATURES), FEATURES, Model())
    streamed = check.report(source="cur.csv")
    assert streamed.rows == 25_000 and streamed.prediction is not None
    typed = cur.astype({"code": str, "flag": str})
    whole = compare(prof, typed, FEATURES, predictions=Model().predict(typed), source="cur.csv")
    assert _numbers(streamed) == _numbers(whole)
    code = next(f for f in streamed.features if f.name == "code")
    assert set(code.bins) == {"01", "2", "003", "(unseen)"}  # text, as training reads it: "01" stays "01"
    assert code.current[-1] == 0.0


def test_a_header_naming_no_feature_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("0.1,red,01\n0.2,blue,2\n", encoding="utf-8")  # no header row
    with pytest.raises(MlopsError) as e:
        read_file(path, "rows.csv", FEATURES)
    msg = str(e.value)
    assert msg.startswith("rows.csv:1: the header names none of the model's features")
    assert "missing x, ties, n, colour, code, flag" in msg and "unexpected 0.1, red, 01" in msg


def test_a_header_lacking_some_features_reports_them_missing(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    prof = _profile(rng)
    path = tmp_path / "cur.csv"
    _frame(rng, 500).drop(columns=["code"]).to_csv(path, index=False)
    check = Comparison(prof, FEATURES)
    measure(check, read_file(path, "cur.csv", FEATURES), FEATURES)
    report = check.report()
    code = next(f for f in report.features if f.name == "code")
    assert code.kind == "absent" and code.drifted and report.rows == 500


@pytest.mark.parametrize(("text", "expected"), [("", "is empty"), ("x,colour\n", "has no rows"),
                                                ('x,colour\n1,"red\n', "is not readable")])
def test_bad_csv_is_a_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "cur.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MlopsError, match=expected):
        cur = read_file(path, "cur.csv", FEATURES)
        list(cur.pieces())
