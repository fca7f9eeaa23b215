"""From a Model spec to its DVC stage: one source of truth for dvc.yaml, the params file, the
stage provider's plan and the trainer.

The trainer reads ``params/<model>.yaml`` (not the spec) so the DVC stage is self-contained:
its deps are exactly what it reads, and a change to ``serve`` or ``gates`` (promotion, a
stricter gate) does not make the model retrain. Everything here is plain data: no dvc, no sklearn.
"""

from __future__ import annotations

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
    if spec.cv is not None:
        out["cv"] = {"folds": spec.cv.folds, "random_state": spec.cv.random_state}
    elif spec.split is not None:
        stratify = spec.split.stratify if spec.split.stratify is not None else spec.task == DEFAULT_TASK
        out["split"] = {"test_size": spec.split.test_size, "random_state": spec.split.random_state,
                        "stratify": stratify}
    return out


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
    if train is not None:
        deps += [_norm(d) for d in train.deps]
        outs = [_norm(o) for o in train.outs] or [artifacts_dir(model)]
        metrics = _norm(train.metrics or f"{artifacts_dir(model)}/metrics.json")
        cmd = train.cmd.strip()
    else:
        outs = [artifacts_dir(model)]
        metrics = f"{artifacts_dir(model)}/metrics.json"
        cmd = f"mlopsctl train {shlex.quote(model)}"  # a shell line DVC runs
    in_out = any(_under(metrics, o) for o in outs)
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
        custom=train is not None,
    )


def dvc_yaml(stages: list[StageDef]) -> dict[str, Any]:
    """The content of ``dvc.yaml`` as data."""
    doc: dict[str, Any] = {"stages": {}}
    top_metrics: list[str] = []
    for s in stages:
        entry: dict[str, Any] = {"cmd": s.cmd, "deps": list(s.deps), "params": [{s.params_file: None}],
                                 "outs": list(s.outs)}
        if s.metrics_in_out:
            top_metrics.append(s.metrics)
        else:
            entry["metrics"] = [{s.metrics: {"cache": False}}]
        doc["stages"][s.name] = entry
    if top_metrics:
        doc["metrics"] = top_metrics
    return doc
