"""The typed spec views: every default decided once, from the schema-valid data."""

from __future__ import annotations

from pathlib import Path

from mlopsctl.specs.model import Project, SpecDoc
from mlopsctl.specs.model_spec import ModelSpec, default_metrics
from mlopsctl.specs.project import ProjectSpec


def test_model_defaults() -> None:
    spec = ModelSpec.from_data({"name": "iris", "data": {"path": "data/iris.csv", "target": "species"},
                                "features": {"a": {"type": "float"}},
                                "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"}})
    assert spec.task == "classification"
    assert spec.metrics == ("accuracy",) and spec.listed_metrics == ()
    assert spec.split is not None and (spec.split.test_size, spec.split.random_state) == (0.25, 0)
    assert spec.cv is None and spec.train is None and spec.monitor is None and spec.serve == {}
    assert spec.features["a"].required and spec.features["a"].max_null_fraction == 0
    assert spec.estimator.params == {} and spec.preprocessing == "auto"
    assert default_metrics("regression") == ("r2",)


def test_model_fields() -> None:
    spec = ModelSpec.from_data({
        "name": "h", "task": "regression", "metrics": ["r2", "neg_mean_absolute_error"], "cv": {"folds": 3},
        "gates": {"r2": ">= 0.5", "no_worse_than": {"environment": "staging", "metric": "r2"}},
        "serve": {"staging": {"version": 2}, "production": {"version": "latest"}},
        "monitor": {"capture": {"enabled": False}, "retrain": {"data": "incoming/h.csv"}, "schedule": "0 6 * * 1"},
        "train": {"cmd": " python src/train.py ", "deps": ["src"]},
    })
    assert spec.metrics == ("r2", "neg_mean_absolute_error")
    assert spec.split is None and spec.cv is not None and (spec.cv.folds, spec.cv.random_state) == (3, 0)
    assert spec.gates.thresholds == {"r2": ">= 0.5"}
    assert spec.gates.no_worse_than is not None and spec.gates.no_worse_than.by == 0.0
    assert [(e, s.version) for e, s in spec.serve.items()] == [("staging", 2), ("production", "latest")]
    assert spec.monitor is not None and not spec.monitor.capture.enabled
    assert spec.monitor.drift.method == "psi" and spec.monitor.drift.threshold == 0.2
    assert spec.monitor.retrain is not None and spec.monitor.retrain.mode == "replace"
    assert spec.train is not None and spec.train.cmd == " python src/train.py " and spec.train.deps == ("src",)


def test_project_defaults_and_views() -> None:
    data = {"name": "demo", "environments": {"staging": {"port": 8101}, "production": None}}
    spec = ProjectSpec.from_data(data)
    assert spec.images.base == "python:3.11-slim" and spec.images.repository is None
    assert spec.ci.python == "3.11" and spec.ci.default_branch == "main" and spec.ci.runs_on == "ubuntu-latest"
    assert spec.remote.name == "local" and spec.remote.url is None and spec.registry_type == "git"
    project = Project(Path("/nonexistent"), SpecDoc("mlops.yaml", data), {"m": SpecDoc("models/m.yaml", {"name": "m"})})
    envs = project.settings.environments
    assert list(envs) == ["staging", "production"] and list(project.environments) == list(envs)
    assert envs["staging"].port == 8101 and envs["production"].port is None and not envs["staging"].protected
    assert project.settings is project.settings  # built once
    assert project.models["m"].model is project.models["m"].model
    assert ProjectSpec.from_data({"name": "x", "ci": {"runs_on": ["self-hosted", "linux"]}}).ci.runs_on == (
        "self-hosted", "linux")
