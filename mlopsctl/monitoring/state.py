"""Where drift check results are kept, and why there.

- Every ``drift`` run records its summary locally in ``.mlopsctl/drift/<model>/<env|data>.json``
  (not committed, like the rest of .mlopsctl/): on the machine that runs the deployments,
  ``plan`` then warns about a deployed model whose last check found drift.
- A retraining pull request commits ``monitoring/<model>/last-drift.json``: the summary of the
  check that motivated it, with the digest of the data it checked. It is small, reviewed with the
  data change it explains, and it is what a CI runner (which has no local state) reads, so the
  PR's plan can give the drift as the reason the stage reruns. It counts only while the data file
  still has that digest, so the reason disappears by itself once the data moves on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlopsctl.monitoring.drift import DriftReport

SUMMARY_KEYS = ("model", "version", "environment", "method", "threshold", "source", "rows", "checked_at",
                "drifted", "verdict", "headline", "drifted_features", "data")


def committed_path(model: str) -> str:
    return f"monitoring/{model}/last-drift.json"


def local_path(root: Path, model: str, env: str | None) -> Path:
    return Path(root) / ".mlopsctl" / "drift" / model / f"{env or 'data'}.json"


def summary(report: DriftReport) -> dict[str, Any]:
    d = report.to_dict()
    out = {k: d[k] for k in SUMMARY_KEYS}
    out["scores"] = {f["name"]: f["score"] for f in [*d["features"], *([d["prediction"]] if d["prediction"] else [])]}
    return out


def _write(root: Path, path: Path, data: dict[str, Any]) -> None:
    from mlopsctl.workspace.fsafe import write_atomic

    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n", root=Path(root))


def record_local(root: Path, report: DriftReport) -> Path:
    path = local_path(root, report.model, report.environment)
    _write(root, path, summary(report))
    return path


def write_committed(root: Path, report: DriftReport) -> Path:
    path = Path(root) / committed_path(report.model)
    _write(root, path, summary(report))
    return path


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or damaged: no record (never a reason to fail a plan)
    return data if isinstance(data, dict) else None


def last_checks(root: Path, model: str) -> list[dict[str, Any]]:
    """Every recorded check of ``model`` (local ones and the committed one), newest first."""
    found: list[dict[str, Any]] = []
    local = Path(root) / ".mlopsctl" / "drift" / model
    if local.is_dir():
        for p in sorted(local.glob("*.json")):
            if (rec := read_json(p)) is not None:
                found.append(rec)
    if (rec := read_json(Path(root) / committed_path(model))) is not None:
        found.append({**rec, "committed": True})
    found.sort(key=lambda r: str(r.get("checked_at") or ""), reverse=True)
    return found
