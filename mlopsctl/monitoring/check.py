"""One drift check end to end, shared by ``mlopsctl drift`` and the retraining proposal.

Resolve the reference version, fetch its verified profile, read the current rows, get their
predictions (recorded with captured requests, or computed by the version's own verified model),
and compare. A data file goes through in chunks: each is read, predicted and counted, then
dropped, so memory does not grow with the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError, Problem, SpecError
from mlopsctl.monitoring.drift import Comparison, DriftReport
from mlopsctl.specs.model_spec import DEFAULT_RETRAIN_MODE, MonitorSpec

if TYPE_CHECKING:
    from mlopsctl.monitoring.current import Current
    from mlopsctl.specs.model import Project, SpecDoc


@dataclass(frozen=True)
class Settings:
    method: str
    threshold: float
    retrain_data: str | None
    retrain_mode: str
    min_rows: int
    min_feature_rows: int


def settings(doc: SpecDoc) -> Settings:
    monitor = doc.model.monitor or MonitorSpec()
    retrain = monitor.retrain
    return Settings(
        method=monitor.drift.method,
        threshold=monitor.drift.threshold,
        retrain_data=retrain.data if retrain else None,
        retrain_mode=retrain.mode if retrain else DEFAULT_RETRAIN_MODE,
        min_rows=monitor.drift.min_rows,
        min_feature_rows=monitor.drift.min_feature_rows,
    )


def model_doc(project: Project, model: str) -> SpecDoc:
    doc = project.models.get(model)
    if doc is None:
        import difflib

        close = difflib.get_close_matches(model, list(project.models), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(sorted(project.models)) or "none"
        raise MlopsError(f"no model {model!r} in models/ (models: {known}){hint}")
    return doc


def run_check(
    project: Project,
    model: str,
    *,
    data: Path | None = None,
    data_shown: str | None = None,
    env: str | None = None,
    version: str | None = None,
    predict: bool = True,
    log: Any = None,
) -> DriftReport:
    """Check ``data`` (a file) or the capture of ``env`` against the reference version."""
    from mlopsctl.monitoring.current import capture_dir, read_capture, read_file
    from mlopsctl.monitoring.reference import fetch_profile, load_model, resolve_version

    doc = model_doc(project, model)
    cfg = settings(doc)
    root = Path(project.root)
    features: dict[str, dict[str, Any]] = {k: dict(v or {}) for k, v in (doc.data.get("features") or {}).items()}
    if data is not None:
        cur = read_file(data, data_shown, features)
    elif env is not None:
        if env not in project.environments:
            resolve_version(project, model, env=env)  # raises the error naming mlops.yaml's environments
        folder = capture_dir(root, model, env)
        cur = read_capture(folder, folder.relative_to(root).as_posix() + "/")
        if version is None and cur.last_version is not None:
            # The version that answered the newest captured request is the one serving.
            version = str(cur.last_version)
    else:
        raise SpecError([Problem(doc.loc("monitor"), "no current data to check: pass --data FILE or --env ENV, "
                                 "or set monitor.retrain.data (where newer labelled data lands)",
                                 path="monitor.retrain.data")])
    mv = resolve_version(project, model, env=env, version=version)
    profile = fetch_profile(root, mv)
    pipe = None
    if cur.predictions is None and predict and profile.get("prediction"):
        if log:
            log(f"predicting the rows of {cur.source} with {mv.tag} (digest verified)")
        pipe = load_model(root, mv)
    check = Comparison(profile, features, method=cfg.method, threshold=cfg.threshold, min_rows=cfg.min_rows,
                       min_feature_rows=cfg.min_feature_rows)
    measure(check, cur, features, pipe, mv.tag)
    report = check.report(model=model, version=mv.version, source=cur.source)
    report.environment = env
    if data is not None:
        report.data = _digest(root, data)
    return report


def measure(check: Comparison, cur: Current, features: dict[str, dict[str, Any]], model: Any = None,
            tag: str = "the model") -> None:
    """Feed the rows of ``cur`` to ``check`` piece by piece, each piece predicted by ``model``
    (when given) as it comes: no piece's typed copy outlives it, no prediction is kept."""
    from mlopsctl.monitoring.reference import predict_rows

    for frame, recorded in cur.pieces():
        predictions = recorded
        if model is not None:
            try:
                predictions = predict_rows(model, frame, features)
            except Exception as e:  # noqa: BLE001 - the model failing on these rows is worth saying, not a crash
                raise MlopsError(f"{tag} cannot predict the rows of {cur.source}: {type(e).__name__}: {e}") from None
        check.add(frame, predictions)


def _digest(root: Path, path: Path) -> dict[str, Any]:
    from mlopsctl.workspace.digests import hash_file

    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = str(path)
    return {"path": rel, "md5": hash_file(path, "md5")}
