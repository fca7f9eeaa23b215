"""Per-group evaluation and the fairness gate, on scikit-learn's diabetes data with its real
``sex`` column, compared with Fairlearn's MetricFrame (the reference).

The diabetes target (disease progression after one year) is a number; the classifier predicts
whether it is above 140 (``high``/``low``, about half the rows each), which is the documented
derivation used here. ``load_diabetes(scaled=False)`` keeps ``sex`` as its recorded codes 1 and 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.training.gates import check_gates
from mlopsctl.training.train import train
from tests.builders import model_spec
from tests.pipeline.dvcrepos import make_repo, to_yaml

FEATURES = ["age", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


def diabetes_csv(classify: bool = True) -> str:
    from sklearn.datasets import load_diabetes

    ds = load_diabetes(scaled=False)
    names = list(ds.feature_names)
    lines = [",".join([*names, "progression"])]
    for row, t in zip(ds.data, ds.target, strict=True):
        label = ("high" if t > 140 else "low") if classify else f"{t:g}"
        lines.append(",".join(f"{v:g}" for v in row) + f",{label}")
    return "\n".join(lines) + "\n"


def diabetes_spec(task: str = "classification", **extra: Any) -> dict[str, Any]:
    spec = model_spec("diabetes")
    spec.update({
        "description": "disease progression above 140 (diabetes, scikit-learn)",
        "task": task,
        "data": {"path": "data/diabetes.csv", "target": "progression"},
        "features": {f: {"type": "float"} for f in FEATURES},
        "estimator": {"class": "sklearn.linear_model.LogisticRegression" if task == "classification"
                      else "sklearn.linear_model.Ridge", "params": {}},
        "metrics": ["accuracy"] if task == "classification" else ["r2"],
        "gates": {},
        "fairness": {"sensitive": ["sex"], "positive_label": "high"} if task == "classification"
        else {"sensitive": ["sex"]},
    })
    spec.update(extra)
    return spec


def diabetes_repo(tmp_path: Path, task: str = "classification", **extra: Any) -> Path:
    spec = diabetes_spec(task, **extra)
    return make_repo(tmp_path, models=(), files={"data/diabetes.csv": diabetes_csv(task == "classification"),
                                                 "models/diabetes.yaml": to_yaml(spec)})


def _heldout(root: Path, task: str) -> tuple[Any, Any, Any]:
    """The held-out rows as the spec's split picks them, and the trained model's predictions."""
    import joblib
    import pandas as pd
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(root / "data/diabetes.csv")
    y = df["progression"].astype(str) if task == "classification" else df["progression"].astype(float)
    _, X_te, _, y_te = train_test_split(df, y, test_size=0.25, random_state=0,
                                        stratify=y if task == "classification" else None)
    pipe = joblib.load(root / "artifacts/diabetes/model.joblib")
    return X_te, y_te, pipe.predict(X_te[FEATURES])


@pytest.mark.slow
def test_per_group_metrics_equal_fairlearn_metricframe(tmp_path: Path) -> None:
    from fairlearn.metrics import (
        MetricFrame,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score, recall_score

    root = diabetes_repo(tmp_path)
    train(root, "diabetes", progress=False)
    report = json.loads((root / "reports/diabetes/fairness.json").read_text())
    X_te, y_te, pred = _heldout(root, "classification")
    pos = "high"
    frame = MetricFrame(
        metrics={
            "accuracy": accuracy_score,
            "precision": lambda t, p: precision_score(t, p, pos_label=pos, zero_division=0),
            "recall": lambda t, p: recall_score(t, p, pos_label=pos, zero_division=0),
            "selection_rate": lambda t, p: selection_rate(t, p, pos_label=pos),
            "false_positive_rate": lambda t, p: false_positive_rate(t, p, pos_label=pos),
            "false_negative_rate": lambda t, p: false_negative_rate(t, p, pos_label=pos),
        },
        y_true=y_te, y_pred=pred, sensitive_features=X_te["sex"].map(lambda v: f"sex={v:g}"),
    )
    assert report["sensitive"] == ["sex"] and report["positive_label"] == "high"
    assert [g["group"] for g in report["groups"]] == ["sex=1", "sex=2"]
    for g in report["groups"]:
        assert g["count"] == int((X_te["sex"].map(lambda v: f"sex={v:g}") == g["group"]).sum())
        for name, value in g["metrics"].items():
            assert value == pytest.approx(frame.by_group.loc[g["group"], name], abs=1e-12), (g["group"], name)
    for name, value in report["overall"].items():
        assert value == pytest.approx(frame.overall[name], abs=1e-12), name
    diff = frame.difference(method="between_groups")
    for name, gap in report["gaps"].items():
        assert gap["gap"] == pytest.approx(diff[name], abs=1e-12), name
    # sex is evaluation-only: the model never saw it.
    import joblib

    pipe = joblib.load(root / "artifacts/diabetes/model.joblib")
    assert "sex" not in list(pipe.feature_names_in_)


@pytest.mark.slow
def test_regression_groups_equal_fairlearn(tmp_path: Path) -> None:
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    root = diabetes_repo(tmp_path, "regression", split={"test_size": 0.25, "random_state": 0})
    train(root, "diabetes", progress=False)
    report = json.loads((root / "reports/diabetes/fairness.json").read_text())
    X_te, y_te, pred = _heldout(root, "regression")
    frame = MetricFrame(metrics={"mean_absolute_error": mean_absolute_error, "mean_squared_error": mean_squared_error},
                        y_true=y_te, y_pred=pred, sensitive_features=X_te["sex"].map(lambda v: f"sex={v:g}"))
    for g in report["groups"]:
        for name, value in g["metrics"].items():
            assert value == pytest.approx(frame.by_group.loc[g["group"], name], rel=1e-12)
    diff = frame.difference()
    assert report["gaps"]["mean_absolute_error"]["gap"] == pytest.approx(diff["mean_absolute_error"], rel=1e-12)


def test_intersectional_groups_equal_fairlearn() -> None:
    """Several sensitive columns: one group per combination present, as MetricFrame makes them."""
    import numpy as np
    import pandas as pd
    from fairlearn.metrics import MetricFrame, selection_rate
    from sklearn.metrics import accuracy_score

    from mlopsctl.training.fairness import evaluate

    rng = np.random.default_rng(3)
    n = 400
    t = rng.choice(["yes", "no"], n)
    p = np.where(rng.random(n) < 0.8, t, rng.choice(["yes", "no"], n))
    sens = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "age": rng.choice(["<40", "40+"], n)})
    report = evaluate(t, p, sens, "classification", "yes")
    frame = MetricFrame(metrics={"accuracy": accuracy_score,
                                 "selection_rate": lambda a, b: selection_rate(a, b, pos_label="yes")},
                        y_true=t, y_pred=p, sensitive_features=sens)
    by = {f"sex={s}, age={a}": row for (s, a), row in frame.by_group.iterrows()}
    assert len(report["groups"]) == len(by) == 4
    for g in report["groups"]:
        assert g["metrics"]["accuracy"] == pytest.approx(by[g["group"]]["accuracy"], abs=1e-12)
        assert g["metrics"]["selection_rate"] == pytest.approx(by[g["group"]]["selection_rate"], abs=1e-12)
    assert report["gaps"]["accuracy"]["gap"] == pytest.approx(frame.difference()["accuracy"], abs=1e-12)


REPORT = {
    "groups": [{"group": "sex=1", "count": 60, "metrics": {"accuracy": 0.80, "recall": 0.7}},
               {"group": "sex=2", "count": 12, "metrics": {"accuracy": 0.65, "recall": 0.72}}],
    "gaps": {"accuracy": {"gap": 0.15, "highest": {"group": "sex=1", "value": 0.80},
                          "lowest": {"group": "sex=2", "value": 0.65}},
             "recall": {"gap": 0.02, "highest": {"group": "sex=2", "value": 0.72},
                        "lowest": {"group": "sex=1", "value": 0.70}}},
}


def test_gate_refuses_over_the_limit_naming_groups_and_values() -> None:
    gates = {"fairness": {"max_gap": {"accuracy": 0.1, "recall": 0.05}, "min_group_size": 30}}
    results = check_gates(gates, {"accuracy": 0.77}, None, REPORT)
    by = {r.name: r for r in results}
    assert not by["fairness.min_group_size"].passed
    assert by["fairness.min_group_size"].message == (
        "gate fairness min_group_size 30 not met: sex=2 has 12 evaluation rows (too few to judge)")
    assert not by["fairness.accuracy"].passed
    assert by["fairness.accuracy"].message == (
        "gate fairness accuracy gap <= 0.1 not met by candidate (0.15: sex=1 0.8 vs sex=2 0.65)")
    assert by["fairness.recall"].passed and by["fairness.recall"].value == pytest.approx(0.02)
    missing = check_gates(gates, {}, None, None)
    assert len(missing) == 1 and not missing[0].passed and "no per-group evaluation" in missing[0].message


def test_sensitive_column_is_not_a_feature_unless_the_spec_says_so(tmp_path: Path) -> None:
    from mlopsctl.specs.load import collect_problems

    features = {f: {"type": "float"} for f in [*FEATURES, "sex"]}
    root = diabetes_repo(tmp_path, features=features)
    _, problems = collect_problems(root, cache=False)
    texts = [f"{p.location}: {p.message}" for p in problems]
    assert any("models/diabetes.yaml:" in t and "'sex' is a sensitive column" in t for t in texts), texts
    spec = diabetes_spec(features=features)
    spec["fairness"]["as_features"] = True
    (root / "models/diabetes.yaml").write_text(to_yaml(spec))
    _, problems = collect_problems(root, cache=False)
    assert problems == []
    spec["gates"] = {"fairness": {"max_gap": {"r2": 0.1}}}
    (root / "models/diabetes.yaml").write_text(to_yaml(spec))
    _, problems = collect_problems(root, cache=False)
    assert problems and "max_gap" in problems[0].path


def test_model_card_shows_the_per_group_table() -> None:
    from mlopsctl.registry.card import render_card
    from mlopsctl.registry.state import ModelVersion

    report = {"sensitive": ["sex"], "positive_label": "high", **REPORT}
    mv = ModelVersion(model="diabetes", version=1, tag="diabetes@v1.0.0", commit="c" * 40, artifact_md5="m" * 32,
                      artifact_sha256="s" * 64, metrics={"accuracy": 0.77}, lineage={"task": "classification"},
                      fairness=report, registered_by={"name": "Ada", "email": "ada@example.com"})
    card = render_card(mv, ["staging"])
    assert "## Per-group metrics" in card and "(positive class: `high`)" in card
    assert "| Group | Rows | accuracy | recall |" in card
    assert "| sex=2 | 12 | 0.6500 | 0.7200 |" in card
    assert "| **gap** | | **0.1500** | **0.0200** |" in card
    assert " by Ada <ada@example.com> |" in card
