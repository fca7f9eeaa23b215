"""The built-in trainer on scikit-learn's bundled datasets, in real repositories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.errors import MlopsError, SpecError
from mlopsctl.training.contract import ContractError
from mlopsctl.training.train import train
from tests.builders import model_spec
from tests.pipeline.dvcrepos import make_repo, to_yaml, write_tree

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def _iris_csv() -> str:
    from sklearn.datasets import load_iris

    ds = load_iris()
    lines = [",".join([*IRIS_FEATURES, "species"])]
    for row, t in zip(ds.data, ds.target, strict=True):
        lines.append(",".join(f"{v:g}" for v in row) + f",{ds.target_names[t]}")
    return "\n".join(lines) + "\n"


def _diabetes_csv() -> tuple[str, list[str]]:
    from sklearn.datasets import load_diabetes

    ds = load_diabetes()
    names = list(ds.feature_names)
    lines = [",".join([*names, "progression"])]
    for row, t in zip(ds.data, ds.target, strict=True):
        lines.append(",".join(f"{v:.6f}" for v in row) + f",{t:g}")
    return "\n".join(lines) + "\n", names


def _spec(name: str, **top: Any) -> dict[str, Any]:
    """The builders' model spec with whole top-level keys replaced (None removes one)."""
    spec = model_spec(name)
    for key, value in top.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return spec


def _iris_repo(tmp_path: Path, **model: Any) -> Path:
    spec = _spec("iris", **model)
    return make_repo(tmp_path, files={"data/iris.csv": _iris_csv(), "models/iris.yaml": to_yaml(spec)})


def test_trains_iris_and_writes_the_artifact_contract(tmp_path: Path) -> None:
    import joblib
    import pandas as pd

    root = _iris_repo(tmp_path)
    metrics = train(root, "iris", progress=False)
    out = root / "artifacts" / "iris"
    # The spec's metrics, plus the trivial baseline of the primary one (the baseline gate reads it).
    assert set(metrics) == {"accuracy", "f1_macro", "accuracy_baseline"} and metrics["accuracy"] >= 0.9
    assert metrics["accuracy_baseline"] < 0.5  # three balanced classes: the majority class is right 1 time in 3
    assert json.loads((root / "reports/iris/metrics.json").read_text()) == metrics
    lineage = json.loads((out / "lineage.json").read_text())
    assert lineage["data"]["path"] == "data/iris.csv" and lineage["data"]["rows"] == 150
    from mlopsctl.pipeline.facts import md5_file

    assert lineage["data"]["md5"] == md5_file(root / "data/iris.csv")
    assert lineage["classes"] == ["setosa", "versicolor", "virginica"]
    assert lineage["params"] == {"n_estimators": 20, "random_state": 0}
    assert lineage["code_commit"] and len(lineage["code_commit"]) == 40
    for key in ("estimator", "python", "sklearn", "mlopsctl", "features", "target", "task", "trained_at",
                "spec_digest"):
        assert lineage[key], key
    pipe = joblib.load(out / "model.joblib")
    frame = pd.DataFrame([{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}])
    assert list(pipe.predict(frame)) == ["setosa"]


def test_same_inputs_same_metrics(tmp_path: Path) -> None:
    root = _iris_repo(tmp_path, estimator={"class": "sklearn.ensemble.RandomForestClassifier",
                                           "params": {"n_estimators": 15}})  # no random_state: seeded for you
    first = train(root, "iris", progress=False)
    second = train(root, "iris", progress=False)
    assert first == second
    assert json.loads((root / "artifacts/iris/lineage.json").read_text())["params"]["random_state"] == 0


def test_regression_with_cross_validation(tmp_path: Path) -> None:
    csv, names = _diabetes_csv()
    spec = _spec("diabetes", task="regression", data={"path": "data/diabetes.csv", "target": "progression"},
                      estimator={"class": "sklearn.linear_model.Ridge", "params": {"alpha": 1.0}},
                      split=None, cv={"folds": 3, "random_state": 0}, metrics=["r2", "neg_mean_absolute_error"],
                      gates=None)
    spec["features"] = {n: {"type": "float"} for n in names}
    root = make_repo(tmp_path, models=(), files={"data/diabetes.csv": csv, "models/diabetes.yaml": to_yaml(spec)})
    metrics = train(root, "diabetes", progress=False)
    assert 0.3 < metrics["r2"] < 0.7
    assert metrics["neg_mean_absolute_error"] < 0
    assert "classes" not in json.loads((root / "artifacts/diabetes/lineage.json").read_text())


def test_categories_are_one_hot_encoded(tmp_path: Path) -> None:
    import joblib
    import pandas as pd

    rows = ["size,colour,label"] + [f"{i % 7},{c},{'y' if c == 'red' else 'n'}"
                                    for i, c in enumerate(["red", "green", "blue"] * 20)]
    spec = _spec("paint", data={"path": "data/paint.csv", "target": "label"},
                      estimator={"class": "sklearn.linear_model.LogisticRegression", "params": {}},
                      metrics=["accuracy"])
    spec["features"] = {"size": {"type": "int"}, "colour": {"type": "category"}}
    root = make_repo(tmp_path, models=(), files={"data/paint.csv": "\n".join(rows) + "\n",
                                                 "models/paint.yaml": to_yaml(spec)})
    assert train(root, "paint", progress=False)["accuracy"] == 1.0
    pipe = joblib.load(root / "artifacts/paint/model.joblib")
    assert list(pipe.predict(pd.DataFrame([{"size": 3, "colour": "red"}, {"size": 1, "colour": "purple"}]))) \
        == ["y", "n"]


def test_estimator_under_src(tmp_path: Path) -> None:
    root = _iris_repo(tmp_path, estimator={"class": "src.custom.Nearest", "params": {"k": 3}})
    write_tree(root, {"src/__init__.py": "", "src/custom.py": (
        "from sklearn.neighbors import KNeighborsClassifier\n\n"
        "class Nearest(KNeighborsClassifier):\n"
        "    def __init__(self, k=5):\n"
        "        self.k = k\n"
        "        super().__init__(n_neighbors=k)\n")})
    assert train(root, "iris", progress=False)["accuracy"] > 0.9
    assert not (root / "src" / "__pycache__").exists()


def test_misspelt_param_is_a_spec_error_with_location(tmp_path: Path) -> None:
    root = _iris_repo(tmp_path, estimator={"class": "sklearn.ensemble.RandomForestClassifier",
                                           "params": {"n_estimator": 10}})
    with pytest.raises(SpecError) as info:
        train(root, "iris", progress=False)
    line = next(i for i, t in enumerate((root / "models/iris.yaml").read_text().splitlines(), 1)
                if "n_estimator:" in t)
    (problem,) = info.value.problems
    assert (problem.location.file, problem.location.line) == ("models/iris.yaml", line)
    assert "RandomForestClassifier has no parameter 'n_estimator'" in problem.message
    assert problem.hint == "did you mean 'n_estimators'?"
    assert not (root / "artifacts").exists()


@pytest.mark.parametrize(("estimator", "match"), [
    ("sklearn.ensemble.RandomForestClassifer", "has no class 'RandomForestClassifer'"),
    ("sklearn.nosuchmodule.Model", "cannot import module 'sklearn.nosuchmodule'"),
    ("nosuchpkg.Model", "'nosuchpkg.Model' is not from an allowed module"),
    ("json.JSONDecoder", "'json.JSONDecoder' is not from an allowed module"),
    ("sklearn.utils.Bunch", "is not a scikit-learn estimator"),
])
def test_bad_estimator_class(tmp_path: Path, estimator: str, match: str) -> None:
    root = _iris_repo(tmp_path, estimator={"class": estimator, "params": {}})
    with pytest.raises(SpecError, match=match) as info:
        train(root, "iris", progress=False)
    assert info.value.problems[0].path == "estimator.class"


def test_unknown_metric_and_fit_failure(tmp_path: Path) -> None:
    root = _iris_repo(tmp_path, metrics=["accuracy", "acuracy"])
    with pytest.raises(SpecError, match="unknown scikit-learn scorer 'acuracy'"):
        train(root, "iris", progress=False)
    root = _iris_repo(tmp_path / "b", estimator={"class": "sklearn.linear_model.LogisticRegression",
                                                 "params": {"C": -1}})
    with pytest.raises(MlopsError, match=r"models/iris.yaml:\d+:5: estimator sklearn.linear_model.LogisticRegression "
                                         r"failed to fit: InvalidParameterError"):
        train(root, "iris", progress=False)


def test_too_small_to_split_and_contract_violation(tmp_path: Path) -> None:
    root = make_repo(tmp_path, files={"data/iris.csv": _iris_csv().splitlines()[0] + "\n5,3,1,0.2,setosa\n"
                                                       "6,3,4,1.3,versicolor\n"})
    # One row per class: the data contract refuses it before scikit-learn's split would fail.
    with pytest.raises(ContractError, match=r"column 'species': split: class 'setosa' has 1 row; a stratified "
                                            r"split needs at least 2 per class .*line 2: 'setosa'"):
        train(root, "iris", progress=False)
    lines = _iris_csv().splitlines()
    lines[57] = lines[57].replace(lines[57].split(",")[0], "x", 1)
    write_tree(root, {"data/iris.csv": "\n".join(lines) + "\n"})
    with pytest.raises(ContractError, match=r"column 'sepal_length': type float: not a valid float "
                                            r"\(1 row, e.g. line 58: 'x'\)"):
        train(root, "iris", progress=False)
    assert not (root / "artifacts").exists()


def test_cli_train(tmp_path: Path, cli: Any) -> None:
    root = _iris_repo(tmp_path / "own")
    ok = cli("train", "iris", "--json", "-q", repo=root)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["accuracy"] >= 0.9
    bad = cli("train", "irs", repo=root)
    assert bad.exit_code == 1 and "no model 'irs'" in bad.stderr and "did you mean 'iris'?" in bad.stderr
