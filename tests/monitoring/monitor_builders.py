"""Real repositories with a registered version that carries a reference profile.

The candidate is trained here the way the built-in trainer does it (a scikit-learn Pipeline
fitted on a DataFrame of the spec's features) and profiled with the same hook training calls
(``monitoring.profile.write_profile``); the profile's digests go into ``lineage.profile``, so the
registered version records them. Then ``dvc add`` + commit + the real model provider registers it.
"""

from __future__ import annotations

import json
import platform
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.builders import git, iris_like_csv
from tests.registry.registry_builders import assign, register, registry_repo, track

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
MONITOR = {"drift": {"method": "psi", "threshold": 0.2}, "schedule": "0 6 * * 1",
           "retrain": {"data": "incoming/iris.csv"}}


def train_with_profile(root: Path, model: str = "iris") -> dict[str, Any]:
    import hashlib

    import joblib
    import pandas as pd
    import sklearn
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from mlopsctl.monitoring.profile import write_profile

    data = root / "data" / f"{model}.csv"
    df = pd.read_csv(data)
    X, y = df[list(FEATURES)].astype("float64"), df["species"].astype(object)
    pipe = Pipeline([("scale", StandardScaler()), ("estimator", RandomForestClassifier(n_estimators=10,
                                                                                       random_state=0))]).fit(X, y)
    out = root / "artifacts" / model
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipe, out / "model.joblib")
    metrics = {"accuracy": float((pipe.predict(X) == y).mean()), "f1_macro": 0.9}
    (root / "reports" / model).mkdir(parents=True, exist_ok=True)
    (root / "reports" / model / "metrics.json").write_text(json.dumps(metrics) + "\n", encoding="utf-8")
    features = {f: {"type": "float", "min": 0, "max": 100} for f in FEATURES}
    record = write_profile(out, X, pipe.predict(X), features, "classification", model)
    raw = data.read_bytes()
    lineage = {
        "model": model,
        "data": {"path": f"data/{model}.csv", "md5": hashlib.md5(raw).hexdigest(),
                 "sha256": hashlib.sha256(raw).hexdigest(), "rows": len(df)},
        "params": {"n_estimators": 10, "random_state": 0},
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "code_commit": git(root, "rev-parse", "HEAD"),
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "mlopsctl": "0.1.0",
        "features": features,
        "target": "species",
        "task": "classification",
        "classes": sorted(set(y)),
        "profile": record,
    }
    (out / "lineage.json").write_text(json.dumps(lineage, indent=2) + "\n", encoding="utf-8")
    return record


def build_served(base: Path) -> Path:
    """``base/repo``: iris v1 registered (with its profile) and assigned to staging."""
    root = registry_repo(base, model={"serve": {"staging": {"version": "latest"}}, "monitor": MONITOR})
    train_with_profile(root)
    track(root)
    register(root)
    assign(root, "staging")
    return base


def copy_served(template: Path, tmp_path: Path) -> Path:
    base = tmp_path / "mon"
    shutil.copytree(template / "repo", base / "repo", symlinks=True)
    shutil.copytree(template / "dvc-remote", base / "dvc-remote")
    return base / "repo"


def shifted_csv(shift: float = 0.0, seed: int = 5, rows_per_class: int = 70, column: str = "petal_width") -> str:
    """An iris-like CSV (another seed), with ``shift`` added to one column; 210 rows by default, over
    the drift check's minimum of 200."""
    lines = iris_like_csv(rows_per_class=rows_per_class, seed=seed).splitlines()
    header = lines[0].split(",")
    i = header.index(column)
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[i] = f"{float(cells[i]) + shift:.2f}"
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def build_applied(base: Path) -> Path:
    """``base/repo`` after a real ``mlopsctl apply`` (DVC-tracked data, the trainer's profile, v1
    registered), committed and pushed to a bare ``base/origin.git``; ``incoming/`` exists."""
    from tests.builders import make_repo, run_mlopsctl

    root = make_repo(base, model={"monitor": MONITOR})
    proc = run_mlopsctl(["apply", "--auto-approve"], root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    git(root, "add", "-A")
    if git(root, "status", "--porcelain"):  # apply commits what it wrote when it registers a version
        git(root, "commit", "-q", "-m", "First apply")
    git(base, "init", "-q", "--bare", "origin.git")
    git(root, "remote", "add", "origin", "../origin.git")
    git(root, "push", "-q", "origin", "main")
    (root / "incoming").mkdir()
    return base


def copy_applied(template: Path, tmp_path: Path) -> Path:
    base = tmp_path / "applied"
    for name in ("repo", "dvc-remote", "origin.git"):
        shutil.copytree(template / name, base / name, symlinks=True)
    return base / "repo"


@pytest.fixture(scope="module")
def served_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per test module: training and registering a version is the slow part."""
    return build_served(tmp_path_factory.mktemp("served-template"))


@pytest.fixture
def served(served_template: Path, tmp_path: Path) -> Path:
    return copy_served(served_template, tmp_path)
