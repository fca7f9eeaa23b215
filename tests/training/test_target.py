"""Data that cannot make a model is refused by the data contract: inf, a single class, a constant
regression target, too few rows per class for the split or the folds; each with column, rule,
count and example rows (CSV lines)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from mlopsctl.training.contract import ContractError, check


def _params(task: str = "classification", **extra: Any) -> dict[str, Any]:
    return {"task": task, "data": {"path": "d.csv", "target": "y"}, "features": {"x": {"type": "float"}},
            "split": {"test_size": 0.25, "random_state": 0, "stratify": task == "classification"}, **extra}


def _frame(xs: list[str], ys: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"x": xs, "y": ys}, dtype=object)


def _refused(df: pd.DataFrame, params: dict[str, Any]) -> str:
    with pytest.raises(ContractError) as info:
        check(df, params, "d.csv", "models/m.yaml")
    return info.value.message


def test_inf_in_a_feature_is_refused_with_its_rows() -> None:
    xs = ["1", "inf", "2", "-inf"] * 3
    msg = _refused(_frame(xs, ["a", "b"] * 6), _params())
    assert "column 'x': finite: inf is not a number a model can use (6 rows, e.g. line 3: 'inf', line 5: '-inf'" in msg


def test_inf_in_a_regression_target_is_refused() -> None:
    msg = _refused(_frame([str(i) for i in range(8)], ["1", "2", "inf", "3"] * 2), _params("regression"))
    assert "column 'y': target: inf is not a number a model can learn (2 rows, e.g. line 4: 'inf'" in msg


def test_a_single_class_target_is_refused() -> None:
    msg = _refused(_frame([str(i) for i in range(10)], ["setosa"] * 10), _params())
    assert "column 'y': target: a single class ('setosa') in all 10 rows" in msg
    assert "(10 rows, e.g. line 2: 'setosa'" in msg


def test_a_constant_regression_target_is_refused() -> None:
    msg = _refused(_frame([str(i) for i in range(10)], ["3.5"] * 10), _params("regression"))
    assert "column 'y': target: the same value in all 10 rows; a regression has nothing to learn" in msg


def test_a_class_too_small_for_a_stratified_split_is_refused() -> None:
    ys = ["a"] * 10 + ["b"] * 10 + ["rare"]
    msg = _refused(_frame([str(i) for i in range(21)], ys), _params())
    assert "column 'y': split: class 'rare' has 1 row; a stratified split needs at least 2" in msg
    assert "(1 row, e.g. line 22: 'rare')" in msg


def test_a_split_too_small_for_the_classes_is_refused() -> None:
    ys = [c for c in "abcdef" for _ in range(2)]  # 12 rows, 6 classes: 3 test rows cannot hold 6 classes
    msg = _refused(_frame([str(i) for i in range(12)], ys), _params())
    assert "split: test_size 0.25 leaves 3 test and 9 training rows for 6 classes" in msg


def test_classes_smaller_than_the_folds_are_refused() -> None:
    ys = ["a"] * 10 + ["b"] * 3
    params = _params(cv={"folds": 5, "random_state": 0})
    msg = _refused(_frame([str(i) for i in range(13)], ys), params)
    assert "cv: class 'b' has 3 row(s); 5-fold stratified cross-validation needs at least 5 per class" in msg


def test_good_data_passes() -> None:
    ys = ["a", "b"] * 10
    checked = check(_frame([str(i) for i in range(20)], ys), _params(), "d.csv", "models/m.yaml")
    assert checked.rows == 20
