"""The trivial baseline a candidate must beat: scikit-learn's Dummy estimators.

A model that scores no better than always answering the majority class (classification) or the
mean of the training target (regression) has learned nothing, however good its number looks
(accuracy 0.9 on data that is 90% one class). The trainer scores that baseline on exactly the
rows and folds the candidate was scored on, for the primary metric (the spec's first), and
writes it to metrics.json as ``<metric>_baseline``; the ``baseline`` gate (on by default) then
refuses a candidate that does not beat it.
"""

from __future__ import annotations

from typing import Any

SUFFIX = "_baseline"
STRATEGY = {"classification": "most_frequent", "regression": "mean"}


def dummy(task: str) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if task == "regression":
        return DummyRegressor(strategy=STRATEGY["regression"])
    return DummyClassifier(strategy=STRATEGY["classification"])


def held_out(task: str, scorer: Any, X_tr: Any, y_tr: Any, X_te: Any, y_te: Any) -> float | None:
    """The baseline's score on the held-out rows (None when the metric cannot score it)."""
    try:
        return float(scorer(dummy(task).fit(X_tr, y_tr), X_te, y_te))
    except Exception:  # noqa: BLE001 - a metric a constant answer cannot get (e.g. needs scores): no baseline
        return None


def cross_validated(task: str, scorer: Any, X: Any, y: Any, splitter: Any) -> float | None:
    from sklearn.model_selection import cross_val_score

    try:
        return float(cross_val_score(dummy(task), X, y, cv=splitter, scoring=scorer, error_score="raise").mean())
    except Exception:  # noqa: BLE001
        return None


def gate(spec_gates: dict[str, Any] | None, metrics: dict[str, Any], task: str) -> tuple[bool, str] | None:
    """(passed, message) of the baseline gate, or None when it does not apply (turned off with
    ``gates: {baseline: false}``, or no baseline was recorded: a custom train command, an older run)."""
    if (spec_gates or {}).get("baseline") is False:
        return None
    for name, value in metrics.items():
        if name.endswith(SUFFIX) or f"{name}{SUFFIX}" not in metrics:
            continue
        base = float(metrics[f"{name}{SUFFIX}"])
        what = "the majority class" if task != "regression" else "the mean of the target"
        label = f"gate baseline ({name} above always answering {what}, {base:.4g})"
        if float(value) > base:
            return True, f"{label} met ({float(value):.4g})"
        return False, (f"{label} not met by candidate ({float(value):.4g}): the model does no better than a "
                       "constant answer (turn this gate off with gates: {baseline: false})")
    return None
