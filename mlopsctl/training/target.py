"""Data that cannot make a model: checks of the target column against the task and the split.

A target with one class gives a classifier that answers that class for everything, and scores
1.0 doing it; a constant regression target has nothing to learn; a class with fewer rows than a
stratified split or the cross-validation folds need fails deep inside scikit-learn. Each is a
:class:`Violation` of the data contract instead, naming the column, the rule, the count and rows.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mlopsctl.training.contract import Violation
from mlopsctl.training.contract import _examples as examples

if TYPE_CHECKING:
    import pandas as pd


def target_violations(target: str, y: pd.Series, raw: pd.Series, params: dict[str, Any]) -> list[Violation]:
    """What makes ``y`` (the typed target, no empty values) unusable for the spec's task and split."""
    task = params.get("task") or "classification"
    rows = len(y)
    if not rows:
        return [Violation(target, "target: the data has no rows", 0)]
    counts = y.astype(str).value_counts(sort=True) if task == "classification" else None
    if task == "classification":
        assert counts is not None
        if len(counts) < 2:
            lines, values = examples(y.notna(), raw)
            return [Violation(target, f"target: a single class ({counts.index[0]!r}) in all {rows} rows; a "
                              "classifier needs at least 2 classes (it would answer that class for everything)",
                              rows, lines, values)]
    elif y.nunique(dropna=True) < 2:
        lines, values = examples(y.notna(), raw)
        return [Violation(target, f"target: the same value in all {rows} rows; a regression has nothing to learn",
                          rows, lines, values)]
    out: list[Violation] = []
    cv = params.get("cv")
    split = params.get("split") or {}
    if cv:
        folds = int(cv.get("folds", 5))
        if counts is not None:
            for cls, n in counts.items():
                if n < folds:
                    lines, values = examples(y.astype(str) == cls, raw)
                    out.append(Violation(target, f"cv: class {cls!r} has {n} row(s); {folds}-fold stratified "
                                         f"cross-validation needs at least {folds} per class", int(n), lines, values))
        elif rows < folds:
            out.append(Violation(target, f"cv: {rows} rows cannot make {folds} folds", rows))
        return out
    size = split.get("test_size", 0.25)
    n_test = math.ceil(float(size) * rows) if isinstance(size, float) and size < 1 else int(size)
    n_train = rows - n_test
    if n_test < 1 or n_train < 1:
        out.append(Violation(target, f"split: test_size {size} leaves {n_train} training and {n_test} test rows of "
                             f"{rows}; both need at least 1", rows))
    elif counts is not None and split.get("stratify"):
        for cls, n in counts.items():
            if n < 2:
                lines, values = examples(y.astype(str) == cls, raw)
                out.append(Violation(target, f"split: class {cls!r} has {n} row; a stratified split needs at "
                                     "least 2 per class (one to train on, one to test)", int(n), lines, values))
        classes = len(counts)
        if not out and (n_test < classes or n_train < classes):
            out.append(Violation(target, f"split: test_size {size} leaves {n_test} test and {n_train} training "
                                 f"rows for {classes} classes; a stratified split needs at least one of each class "
                                 "on both sides", rows))
    return out
