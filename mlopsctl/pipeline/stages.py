"""From a Model spec to its DVC stage: one source of truth for dvc.yaml, the params file, the
stage provider's plan and the trainer.

The trainer reads ``params/<model>.yaml`` (not the spec) so the DVC stage is self-contained:
its deps are exactly what it reads, and a change to ``serve`` or ``gates`` (promotion, a
stricter gate) does not make the model retrain. Everything here is plain data: no dvc, no sklearn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SPLIT = {"test_size": 0.25, "random_state": 0}


def stage_name(model: str) -> str:
    return f"train_{model}"


def params_path(model: str) -> str:
    return f"params/{model}.yaml"


def artifacts_dir(model: str) -> str:
    return f"artifacts/{model}"


def training_params(model: str, data: dict[str, Any], spec_path: str = "") -> dict[str, Any]:
    """What training depends on, with defaults filled in (the content of ``params/<model>.yaml``)."""
    task = data.get("task") or "classification"
    est = dict(data.get("estimator") or {})
    out: dict[str, Any] = {
        "model": model,
        "spec": spec_path or f"models/{model}.yaml",
        "task": task,
        "data": {"path": (data.get("data") or {}).get("path"), "target": (data.get("data") or {}).get("target")},
        "features": dict(data.get("features") or {}),
        "estimator": {"class": est.get("class"), "params": dict(est.get("params") or {})},
        "preprocessing": data.get("preprocessing") or "auto",
        "metrics": list(data.get("metrics") or (["accuracy"] if task == "classification" else ["r2"])),
    }
    if data.get("cv"):
        out["cv"] = {"folds": 5, "random_state": 0, **dict(data["cv"])}
    else:
        split = {**DEFAULT_SPLIT, "stratify": task == "classification", **dict(data.get("split") or {})}
        if "cv" in split:  # tolerate cv written under split
            out["cv"] = {"folds": 5, "random_state": 0, **dict(split.pop("cv") or {})}
        else:
            out["split"] = split
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


def stage_def(model: str, data: dict[str, Any], spec_path: str = "") -> StageDef:
    """The stage for one model spec (``data`` is the spec document's plain data)."""
    params = training_params(model, data, spec_path)
    train = dict(data.get("train") or {})
    custom = bool(train.get("cmd"))
    deps: list[str] = []
    data_path = params["data"]["path"]
    if data_path:
        deps.append(_norm(str(data_path)))
    cls = str(params["estimator"]["class"] or "")
    if cls.startswith("src."):
        deps.append("src")
    deps += [_norm(str(d)) for d in train.get("deps") or ()]
    if custom:
        outs = [_norm(str(o)) for o in train.get("outs") or ()] or [artifacts_dir(model)]
        metrics = _norm(str(train.get("metrics") or f"{artifacts_dir(model)}/metrics.json"))
        cmd = str(train["cmd"]).strip()
    else:
        outs = [artifacts_dir(model)]
        metrics = f"{artifacts_dir(model)}/metrics.json"
        cmd = f"mlopsctl train {model}"
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
        custom=custom,
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
            entry["metrics"] = [{s.metrics: {"cache": False}}]
        doc["stages"][s.name] = entry
    if top_metrics:
        doc["metrics"] = top_metrics
    artifacts = {s.model: {"path": f"{artifacts_dir(s.model)}/model.joblib", "type": "model"}
                 for s in stages if _ARTIFACT_NAME.match(s.model)}
    if artifacts:
        doc["artifacts"] = artifacts
    return doc
