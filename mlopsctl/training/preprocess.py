"""Preprocessing derived from feature types: scale numbers, one-hot categories.

Only scikit-learn classes go into the pickled pipeline, so ``model.joblib`` loads wherever
scikit-learn is installed (the serving image does not need mlopsctl).
"""

from __future__ import annotations

from typing import Any

from mlopsctl.training.contract import NUMERIC


def build_pipeline(estimator: Any, features: dict[str, dict[str, Any]], mode: str = "auto") -> Any:
    """``Pipeline([preprocess?, estimator])`` whose ``predict`` takes a DataFrame of the features.

    ``auto``: numeric (float, int, bool) -> median imputation + StandardScaler; category ->
    most-frequent imputation + OneHotEncoder (unknown categories ignored at serving).
    ``none``: the feature columns go to the estimator as they are.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    names = list(features)
    if mode == "none":
        select = ColumnTransformer([("features", "passthrough", names)], remainder="drop")
        return Pipeline([("select", select), ("estimator", estimator)])
    numeric = [n for n in names if str((features[n] or {}).get("type") or "float") in NUMERIC]
    categorical = [n for n in names if n not in numeric]
    parts = []
    if numeric:
        parts.append(("numeric", Pipeline([("impute", SimpleImputer(strategy="median")),
                                           ("scale", StandardScaler())]), numeric))
    if categorical:
        parts.append(("categorical", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]), categorical))
    pre = ColumnTransformer(parts, remainder="drop")
    return Pipeline([("preprocess", pre), ("estimator", estimator)])
