"""Builders for registry tests: real Git + DVC repositories with real training outputs.

A candidate is made the way the training contract says (``artifacts/<model>/`` with
``model.joblib``, ``lineage.json``, and ``reports/<model>/metrics.json``) by fitting a tiny scikit-learn model
directly, so these tests do not depend on the trainer; ``track`` puts it in the real DVC cache
with ``dvc add`` and commits, as a pipeline run followed by a commit would.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlopsctl.core.model import Action, Change
from tests.builders import git, make_repo, model_spec, to_yaml

DVC = str(Path(sys.executable).with_name("dvc"))


def dvc(root: Path, *args: str) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run([DVC, *args], cwd=root, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def registry_repo(tmp_path: Path, *, model: Mapping[str, Any] | None = None, name: str = "repo") -> Path:
    """A committed repository with one model ``iris``, DVC initialised with the local remote."""
    root = make_repo(tmp_path, model=model, name=name)
    dvc(root, "init", "-q")
    # Relative, so a copy of the repository next to a copy of the remote still works.
    dvc(root, "remote", "add", "-d", "local", "../dvc-remote")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "dvc init")
    return root


def set_model(root: Path, model: str = "iris", **overrides: Any) -> None:
    """Rewrite ``models/<model>.yaml`` (the builders' spec with ``overrides`` merged; not committed)."""
    (root / "models" / f"{model}.yaml").write_text(to_yaml(model_spec(model, **overrides)), encoding="utf-8")


def _load_csv(path: Path) -> tuple[list[list[float]], list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    feats = [c for c in rows[0] if c != "species"]
    return [[float(r[c]) for c in feats] for r in rows], [r["species"] for r in rows]


def train_candidate(
    root: Path, model: str = "iris", *, n_estimators: int = 10, dummy: bool = False, columns: int = 4
) -> dict[str, float]:
    """Fit a tiny model on ``data/<model>.csv`` and write the training outputs; returns the metrics.

    ``columns``: how many feature columns to use (fewer: a weaker model, for metric deltas).
    """
    import joblib
    import sklearn
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    data = root / "data" / f"{model}.csv"
    X, y = _load_csv(data)
    X = [row[:columns] for row in X]
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    est: Any = DummyClassifier(strategy="most_frequent") if dummy else RandomForestClassifier(
        n_estimators=n_estimators, random_state=0
    )
    pipe = Pipeline([("scale", StandardScaler()), ("estimator", est)]).fit(Xtr, ytr)
    pred = pipe.predict(Xte)
    metrics = {"accuracy": float(accuracy_score(yte, pred)), "f1_macro": float(f1_score(yte, pred, average="macro"))}
    out = root / "artifacts" / model
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipe, out / "model.joblib")
    (root / "reports" / model).mkdir(parents=True, exist_ok=True)
    (root / "reports" / model / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    import hashlib

    raw = data.read_bytes()
    lineage = {
        "model": model,
        "data": {"path": f"data/{model}.csv", "md5": hashlib.md5(raw).hexdigest(),
                 "sha256": hashlib.sha256(raw).hexdigest(), "rows": len(y)},
        "params": {} if dummy else {"n_estimators": n_estimators, "random_state": 0, "columns": columns},
        "estimator": "sklearn.dummy.DummyClassifier" if dummy else "sklearn.ensemble.RandomForestClassifier",
        "code_commit": git(root, "rev-parse", "HEAD"),
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "mlopsctl": "0.1.0",
        "features": {f: {"type": "float", "min": 0, "max": 100} for f in
                     ("sepal_length", "sepal_width", "petal_length", "petal_width")},
        "target": "species",
        "task": "classification",
        "classes": sorted(set(y)),
        "trained_at": "2024-01-01T00:00:00+00:00",
        "spec_digest": "sha256:" + hashlib.sha256((root / "models" / f"{model}.yaml").read_bytes()).hexdigest(),
    }
    (out / "lineage.json").write_text(json.dumps(lineage, indent=2) + "\n", encoding="utf-8")
    return metrics


def track(root: Path, model: str = "iris", message: str = "train") -> None:
    """``dvc add`` the outputs (into the real DVC cache) and commit, like a pipeline run + commit."""
    dvc(root, "add", "-q", f"artifacts/{model}")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def context(root: Path) -> Any:
    from mlopsctl.core.context import Context
    from mlopsctl.specs.load import load_project

    return Context(root=root, project=load_project(root, cache=False), log=lambda _msg: None)


def stage(model: str = "iris", action: Action = Action.NOOP) -> Change:
    """What the stage provider would have said about ``stage.<model>.train``."""
    return Change(address=f"stage.{model}.train", action=action)


def plan_one(provider: Any, address: str, ctx: Any) -> Change:
    """Read and diff one address, as the engine does (without the engine)."""
    desired = {r.address: r for r in provider.expand(ctx)}.get(address)
    actual = provider.read(address, desired, ctx)
    change = provider.diff(address, desired, actual, ctx)
    ctx.upstream[address] = change
    payload = dict(change.payload)
    if desired is not None:
        payload["desired"] = desired.desired
    return change.with_(payload=payload, source=change.source or (desired.source if desired else None))


def tags(root: Path) -> list[str]:
    return git(root, "tag", "--list").split()


def gto_show(root: Path, *args: str) -> Any:
    gto = str(Path(sys.executable).with_name("gto"))
    proc = subprocess.run([gto, "show", "--json", *args], cwd=root, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def register(root: Path, model: str = "iris") -> dict[str, Any]:
    """Plan and apply ``model.<model>`` for the candidate in the tree (the stage already ran)."""
    from mlopsctl.providers.model import ModelProvider

    ctx = context(root)
    ctx.upstream[f"stage.{model}.train"] = stage(model)
    provider = ModelProvider()
    change = plan_one(provider, f"model.{model}", ctx)
    assert change.action is Action.CREATE and not change.blocked, change
    facts = provider.apply(change, ctx)
    assert facts is not None
    return facts


def retrain_and_register(root: Path, *, columns: int, model: str = "iris") -> dict[str, Any]:
    """A new candidate on a new commit, registered: the next version."""
    train_candidate(root, model, columns=columns)
    track(root, model, message=f"retrain with {columns} columns")
    return register(root, model)


def assign(root: Path, env: str, model: str = "iris") -> Change:
    """Plan and apply ``registry.<model>.<env>`` from the spec as it is now; returns the planned change."""
    from mlopsctl.providers.registry import RegistryProvider

    ctx = context(root)
    ctx.upstream[f"model.{model}"] = Change(address=f"model.{model}", action=Action.NOOP)
    provider = RegistryProvider()
    change = plan_one(provider, f"registry.{model}.{env}", ctx)
    if change.action is not Action.NOOP:
        provider.apply(change, ctx)
    return change
