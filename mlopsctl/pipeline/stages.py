"""From a Model spec to its DVC stage: one source of truth for dvc.yaml, the params file, the
stage provider's plan and the trainer.

The trainer reads ``params/<model>.yaml`` (not the spec) so the DVC stage is self-contained:
its deps are exactly what it reads, and a change to ``serve`` or ``gates`` (promotion, a
stricter gate) does not make the model retrain. Everything here is plain data: no dvc, no sklearn.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from mlopsctl.specs.model_spec import DEFAULT_TASK, ModelSpec


def stage_name(model: str) -> str:
    return f"train_{model}"


def params_path(model: str) -> str:
    return f"params/{model}.yaml"


def artifacts_dir(model: str) -> str:
    return f"artifacts/{model}"


def model_file(model: str) -> str:
    """The trained model a run leaves (the training contract), the file a version records."""
    return f"{artifacts_dir(model)}/model.joblib"


def reports_dir(model: str) -> str:
    """Evaluation results kept in Git (DVC ``cache: false``), so ``dvc metrics diff`` and
    ``dvc plots diff`` work on any two commits of a fresh clone."""
    return f"reports/{model}"


def metrics_file(model: str) -> str:
    return f"{reports_dir(model)}/metrics.json"


def fairness_file(model: str) -> str:
    return f"{reports_dir(model)}/fairness.json"


def training_params(model: str, data: dict[str, Any], spec_path: str = "", spec: ModelSpec | None = None) -> dict[str, Any]:
    """What training depends on, with defaults filled in (the content of ``params/<model>.yaml``).

    ``spec`` is the typed view of ``data`` when the caller has it; the features' contracts are
    copied as written.
    """
    spec = spec or ModelSpec.from_data(data)
    out: dict[str, Any] = {
        "model": model,
        "spec": spec_path or f"models/{model}.yaml",
        "task": spec.task,
        "data": {"path": spec.data.path, "target": spec.data.target},
        "features": dict(data.get("features") or {}),
        "estimator": {"class": spec.estimator.class_, "params": dict(spec.estimator.params)},
        "preprocessing": spec.preprocessing,
        "metrics": list(spec.metrics),
    }
    if spec.fairness is not None:
        # Only what evaluation reads: the gate's limits (gates.fairness) do not retrain.
        out["fairness"] = {"sensitive": list(spec.fairness.sensitive), "as_features": spec.fairness.as_features,
                           "positive_label": spec.fairness.positive_label}
    if spec.cv is not None:
        out["cv"] = {"folds": spec.cv.folds, "random_state": spec.cv.random_state}
    elif spec.split is not None:
        stratify = spec.split.stratify if spec.split.stratify is not None else spec.task == DEFAULT_TASK
        out["split"] = {"test_size": spec.split.test_size, "random_state": spec.split.random_state,
                        "stratify": stratify}
    return out


Props = tuple[tuple[str, str], ...]


def plots_dir(model: str) -> str:
    return f"reports/{model}/plots"


def plot_defs(model: str, task: str) -> tuple[tuple[str, Props], ...]:
    """(path, DVC plot properties) of each plot the built-in trainer writes for ``task``."""
    d = plots_dir(model)
    if task == "regression":
        return (
            (f"{d}/predicted_vs_actual.csv", (("template", "scatter"), ("x", "actual"), ("y", "predicted"),
                                              ("title", f"{model}: predicted vs actual"))),
            (f"{d}/residuals.csv", (("template", "scatter"), ("x", "predicted"), ("y", "residual"),
                                    ("title", f"{model}: residuals"))),
        )
    return (
        (f"{d}/confusion.csv", (("template", "confusion"), ("x", "actual"), ("y", "predicted"),
                                ("title", f"{model}: confusion matrix"))),
        (f"{d}/roc.csv", (("template", "simple"), ("x", "fpr"), ("y", "tpr"), ("title", f"{model}: ROC"))),
        (f"{d}/precision_recall.csv", (("template", "simple"), ("x", "recall"), ("y", "precision"),
                                       ("title", f"{model}: precision-recall"))),
    )


@dataclass(frozen=True)
class StageDef:
    """One ``train_<model>`` stage as dvc.yaml declares it."""

    name: str
    model: str
    cmd: str
    deps: tuple[str, ...]
    params_file: str
    params: dict[str, Any] = field(hash=False, compare=False)
    outs: tuple[str, ...]
    metrics: str
    metrics_in_out: bool
    """True when the metrics file lies inside an out (declared top-level in dvc.yaml)."""
    custom: bool = False
    reports: tuple[str, ...] = ()
    """Further metrics files the stage writes outside its outs (kept in Git, ``cache: false``)."""
    plots: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    """Plot files (kept in Git) with their DVC plot properties (template, x, y, title...)."""

    @property
    def written(self) -> tuple[str, ...]:
        """Every file or folder the stage records in dvc.lock as an output."""
        own = () if self.metrics_in_out else (self.metrics,)
        return self.outs + own + self.reports + tuple(p for p, _ in self.plots)


def _norm(path: str) -> str:
    return path.strip().rstrip("/").removeprefix("./")


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent + "/")


def stage_def(model: str, data: dict[str, Any], spec_path: str = "", spec: ModelSpec | None = None) -> StageDef:
    """The stage for one model spec (``data`` is the spec document's plain data, ``spec`` its typed view)."""
    spec = spec or ModelSpec.from_data(data)
    params = training_params(model, data, spec_path, spec)
    train = spec.train
    deps: list[str] = []
    data_path = params["data"]["path"]
    if data_path:
        deps.append(_norm(str(data_path)))
    cls = str(params["estimator"]["class"] or "")
    if cls.startswith("src."):
        deps.append("src")
    custom = train is not None
    if train is not None:
        deps += [_norm(d) for d in train.deps]
        outs = [_norm(o) for o in train.outs] or [artifacts_dir(model)]
        metrics = _norm(train.metrics or metrics_file(model))
        cmd = train.cmd.strip()
    else:
        outs = [artifacts_dir(model)]
        metrics = metrics_file(model)
        cmd = f"mlopsctl train {shlex.quote(model)}"  # a shell line DVC runs
    in_out = any(_under(metrics, o) for o in outs)
    reports: tuple[str, ...] = ()
    plots: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    if not custom:
        reports = (fairness_file(model),) if "fairness" in params else ()
        plots = plot_defs(model, params["task"])
    return StageDef(
        name=stage_name(model),
        model=model,
        cmd=cmd,
        deps=tuple(dict.fromkeys(deps)),
        params_file=params_path(model),
        params=params,
        outs=tuple(dict.fromkeys(outs)),
        metrics=metrics,
        metrics_in_out=in_out,
        custom=custom,
        reports=reports,
        plots=plots,
    )


_ARTIFACT_NAME = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?$")
"""GTO's (and so DVC's) artifact names: a model named otherwise is left out of ``artifacts:``."""


def dvc_yaml(stages: list[StageDef]) -> dict[str, Any]:
    """The content of ``dvc.yaml`` as data.

    ``artifacts:`` declares each model, so DVC's own tools find a registered version by its GTO
    tag: ``dvc artifacts get REPO MODEL --rev vN.0.0``.
    """
    doc: dict[str, Any] = {"stages": {}}
    top_metrics: list[str] = []
    for s in stages:
        entry: dict[str, Any] = {"cmd": s.cmd, "deps": list(s.deps), "params": [{s.params_file: None}],
                                 "outs": list(s.outs)}
        if s.metrics_in_out:
            top_metrics.append(s.metrics)
        else:
            entry["metrics"] = [{s.metrics: {"cache": False}}] + [{r: {"cache": False}} for r in s.reports]
        if s.plots:
            # Plot outputs kept in Git, with how `dvc plots show/diff` draws them. Declared here
            # rather than as plain outs: DVC's run cache skips stages with uncached plain outs.
            entry["plots"] = [{path: {"cache": False, **dict(props)}} for path, props in s.plots]
        doc["stages"][s.name] = entry
    if top_metrics:
        doc["metrics"] = top_metrics
    artifacts = {s.model: {"path": model_file(s.model), "type": "model"}
                 for s in stages if _ARTIFACT_NAME.match(s.model)}
    if artifacts:
        doc["artifacts"] = artifacts
    return doc
