"""The reference side of a drift check: which version, its profile, its model.

Which version: ``--version`` when given; else the version the environment serves (``--env``);
else the newest registered version (the one trained on the newest data, which is what "has the
data moved since we last trained" asks about).

The profile and the model come out of the registry the same way: the version's record names
their md5 and sha256 (the model in ``artifact``, the profile in ``lineage.profile``), and
:func:`mlopsctl.registry.api.materialize` copies them from the DVC cache, the working tree or
the DVC remote only after the digest matches. Nothing unverified is compared with or loaded.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError, Problem, SpecError
from mlopsctl.monitoring.profile import load_profile, profile_path

if TYPE_CHECKING:
    from mlopsctl.registry.state import ModelVersion
    from mlopsctl.specs.model import Project


def resolve_version(project: Project, model: str, *, env: str | None = None, version: str | None = None
                    ) -> ModelVersion:
    from mlopsctl.registry.state import RegistryState

    doc = project.models[model]
    reg = RegistryState.read(project.root).model(model)
    if not reg.versions:
        raise MlopsError(
            f"{doc.loc()}: model {model!r} has no registered version yet, so there is no reference to compare "
            "with: run `mlopsctl apply` to train and register one"
        )
    if version is not None:
        mv = reg.resolve(version)
        if mv is None:
            known = ", ".join(f"v{v.version}" for v in reg.versions)
            raise MlopsError(f"{model} has no registered version {version!r} (registered: {known})")
        return mv
    if env is not None:
        if env not in project.environments:
            raise SpecError([Problem(project.spec.loc("environments"), f"no environment {env!r} "
                                     f"(environments: {', '.join(project.environments) or 'none'})",
                                     path="environments")])
        mv = reg.assignments.get(env)
        if mv is None:
            raise MlopsError(f"{doc.loc('serve')}: {env} serves no version of {model} yet "
                             "(the registry has no assignment tag for it): run `mlopsctl apply`")
        return mv
    assert reg.latest is not None
    return reg.latest


def _as_artifact(mv: ModelVersion, record: dict[str, Any]) -> ModelVersion:
    """The version with another of its files (the profile) in the artifact slot, for materialize."""
    return dataclasses.replace(mv, artifact_path=str(record.get("path") or profile_path(mv.model)),
                               artifact_md5=str(record.get("md5") or ""), artifact_sha256=str(record["sha256"]))


def fetch_profile(root: Path, mv: ModelVersion) -> dict[str, Any]:
    """The verified reference profile of version ``mv``."""
    from mlopsctl.registry.api import materialize

    record = mv.lineage.get("profile")
    if not isinstance(record, dict) or not record.get("sha256"):
        return _working_tree_profile(root, mv)
    with tempfile.TemporaryDirectory(prefix="mlopsctl-profile-") as tmp:
        try:
            path = materialize(root, _as_artifact(mv, record), Path(tmp) / "profile.json")
        except MlopsError as e:
            raise MlopsError(f"the reference profile of {mv.tag} cannot be used: {e}") from None
        return load_profile(path, f"reference profile of {mv.tag}")


def _working_tree_profile(root: Path, mv: ModelVersion) -> dict[str, Any]:
    """A version whose record names no profile: the working tree's profile counts only when the
    model next to it is this version's (same sha256), i.e. both came from the same training run."""
    from mlopsctl.workspace.digests import hash_file

    art = Path(root) / (mv.artifact_path or f"artifacts/{mv.model}/model.joblib")
    prof = Path(root) / profile_path(mv.model)
    if art.is_file() and prof.is_file() and hash_file(art) == mv.artifact_sha256:
        return load_profile(prof, f"reference profile of {mv.tag}")
    raise MlopsError(
        f"{mv.tag} has no reference profile: its record names none (it was trained before profiles existed, "
        f"or by a custom train command that does not write {profile_path(mv.model)}). Retrain and register a "
        "new version to get one"
    )


def load_model(root: Path, mv: ModelVersion) -> Any:
    """The version's fitted pipeline, loaded only after its digest matched the record."""
    from mlopsctl.registry.api import materialize

    with tempfile.TemporaryDirectory(prefix="mlopsctl-model-") as tmp:
        path = materialize(root, mv, Path(tmp) / "model.joblib")
        import joblib

        try:
            return joblib.load(path)
        except Exception as e:  # noqa: BLE001 - an unloadable artifact is reported, not a crash
            raise MlopsError(f"cannot load the model of {mv.tag}: {type(e).__name__}: {e}") from None


def model_input(frame: Any, features: dict[str, dict[str, Any]], model: Any) -> Any:
    """The current rows as the model was fitted on them: typed like the data contract does."""
    import pandas as pd

    from mlopsctl.monitoring.profile import category_keys

    cols: dict[str, Any] = {}
    for name, rule in features.items():
        ftype = str((rule or {}).get("type") or "float")
        col = frame[name] if name in frame.columns else pd.Series([None] * len(frame), index=frame.index)
        if ftype in ("float", "int"):
            cols[name] = col if col.dtype == "float64" else pd.to_numeric(col, errors="coerce").astype("float64")
        elif ftype == "bool":
            keys = category_keys(col, "bool")
            cols[name] = keys.map({"true": 1.0, "false": 0.0}).reindex(col.index).astype("float64")
        else:
            cols[name] = pd.Series(col.to_numpy(dtype=object, na_value=None), index=col.index, dtype=object)
    out = pd.DataFrame(cols, index=frame.index)
    fitted = getattr(model, "feature_names_in_", None)
    if fitted is not None:
        out = out.reindex(columns=[str(c) for c in fitted])
    return out


PREDICT_CHUNK = 50_000
"""Rows predicted at a time: the model's typed copy of the input (and whatever its pipeline
derives from it) exists for one chunk at a time, never for all current rows at once."""


def predict_rows(model: Any, frame: Any, features: dict[str, dict[str, Any]], chunk: int = PREDICT_CHUNK) -> Any:
    """The model's predictions for every row of ``frame``, computed chunk by chunk."""
    import numpy as np

    parts = [np.asarray(model.predict(model_input(frame.iloc[start:start + chunk], features, model)))
             for start in range(0, len(frame), chunk)]
    if not parts:
        return np.asarray([])
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
