"""The current training output of a model: the candidate that may become a version.

Read from the working tree (``artifacts/<model>/``, per the training contract). Digests go
through the run's stat-keyed digest cache, so a no-op plan does not re-hash unchanged models.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError
from mlopsctl.pipeline.stages import artifacts_dir, fairness_file, metrics_file, model_file

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.specs.model import SpecDoc
    from mlopsctl.specs.model_spec import ModelSpec


def artifact_path(model: str) -> str:
    return model_file(model)


def metrics_path(model: str, spec: ModelSpec | None = None) -> str:
    custom = spec.train.metrics if spec is not None and spec.train is not None else None
    return custom or metrics_file(model)


def lineage_path(model: str) -> str:
    return f"{artifacts_dir(model)}/lineage.json"


@dataclass(frozen=True)
class Outputs:
    """The files a training run left for one model."""

    model: str
    path: str
    md5: str
    sha256: str
    metrics: dict[str, float]
    lineage: dict[str, Any] | None
    """None when the run wrote no lineage.json (a custom train command may not)."""
    fairness: dict[str, Any] | None = None
    """The per-group report (``reports/<model>/fairness.json``), when the spec names sensitive columns."""

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "md5": self.md5, "sha256": self.sha256, "metrics": self.metrics}
        if self.fairness is not None:
            out["fairness"] = self.fairness
        return out


def _load_json(path: Path | str, what: str) -> Any:
    from mlopsctl.workspace.digests import read_small

    try:
        return json.loads(read_small(path).decode("utf-8"))  # a thousand models' metrics per plan
    except ValueError as e:
        raise MlopsError(f"{what} {path} is not valid JSON: {e}") from None


def read_outputs(
    ctx: Context, model: str, spec: ModelSpec | None = None, *, with_lineage: bool = False
) -> Outputs | None:
    """The candidate in the working tree, or None when training has not produced it yet.

    ``with_lineage``: also parse lineage.json (needed only when registering; a plan skips it).
    """
    # Paths as strings: this runs for every model on every plan.
    root = os.fspath(ctx.root)
    art = os.path.join(root, artifact_path(model))
    met = os.path.join(root, metrics_path(model, spec))
    try:
        st = os.stat(art)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or not os.path.isfile(met):
        return None
    metrics = _load_json(met, "metrics file")
    if not isinstance(metrics, dict):
        raise MlopsError(f"metrics file {met} must hold a JSON object of metric -> number")
    lin_file = os.path.join(root, lineage_path(model))
    lineage = _load_json(lin_file, "lineage file") if with_lineage and os.path.isfile(lin_file) else None
    fair_file = os.path.join(root, fairness_file(model))
    wants_fairness = spec is not None and spec.fairness is not None
    fairness = _load_json(fair_file, "per-group report") if wants_fairness and os.path.isfile(fair_file) else None
    sums = ctx.digests.digests(art, ("md5", "sha256"), st=st)
    return Outputs(
        model=model,
        path=artifact_path(model),
        md5=sums["md5"],
        sha256=sums["sha256"],
        metrics={k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
        lineage=lineage if isinstance(lineage, dict) else None,
        fairness=fairness if isinstance(fairness, dict) else None,
    )


@functools.cache
def _sklearn_version() -> str | None:
    """Looked up once per process: reading a package's metadata costs milliseconds each time."""
    try:
        from importlib.metadata import version

        return version("scikit-learn")
    except Exception:  # noqa: BLE001 - not installed: unknown, not an error
        return None


def complete_lineage(ctx: Context, doc: SpecDoc, outputs: Outputs, commit: str) -> dict[str, Any]:
    """The lineage recorded with a version: the run's lineage.json, with what it lacks filled in.

    A custom train command need not write lineage.json; the version still records what is
    known for sure: the spec's params, the data digest, the commit and the tool versions.
    """
    from mlopsctl import __version__

    spec = doc.model
    lineage: dict[str, Any] = dict(outputs.lineage or {})
    lineage.setdefault("model", outputs.model)
    lineage.setdefault("code_commit", commit)
    lineage.setdefault("estimator", spec.estimator.class_)
    lineage.setdefault("params", dict(spec.estimator.params))
    lineage.setdefault("task", doc.data.get("task"))  # as written: None when the spec leaves it to the default
    lineage.setdefault("target", spec.data.target)
    lineage.setdefault("python", platform.python_version())
    lineage.setdefault("mlopsctl", __version__)
    if "sklearn" not in lineage:
        lineage["sklearn"] = _sklearn_version()
    if "data" not in lineage:
        data_rel = spec.data.path or ""
        data_file = Path(ctx.root) / data_rel
        if data_rel and data_file.is_file():

            cache = ctx.digests
            lineage["data"] = {
                "path": data_rel,
                "md5": cache.digest(data_file, "md5"),
                "sha256": cache.digest(data_file, "sha256"),
            }
    if spec.train is not None:
        lineage.setdefault("train_cmd", spec.train.cmd)
    return lineage
