"""Restoring a stage from DVC's run cache instead of running it, as ``dvc repro`` does.

When the run cache holds a run of the stage with the same command, dependencies and params (the
key of :func:`mlopsctl.pipeline.record.run_key`) and every output of that run is in the DVC cache,
DVC skips the command and checks the outputs out ("Stage is cached - skipping run"). Going back
to earlier params, or an apply on a runner that pulled the run cache, then costs a copy, not a
training. The newest record of a key wins, as in DVC.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from mlopsctl.pipeline.facts import StatCache, cache_dir, in_store, object_path
from mlopsctl.pipeline.record import run_key, stage_inputs, written


def _inputs(root: Path, stage: dict[str, Any], cache: StatCache, ignore: frozenset[str]) -> dict[str, Any] | None:
    """The stage's entry with outs as paths only: what the run-cache key is made of."""
    try:
        entry = stage_inputs(root, stage, cache, ignore)
    except FileNotFoundError:
        return None
    entry["outs"] = [{"path": p} for p in sorted(written(stage))]
    return entry


def _newest(folder: Path) -> Path | None:
    try:
        records = [folder / name for name in os.listdir(folder) if not name.startswith(".")]
    except OSError:
        return None
    return max(records, key=lambda p: p.stat().st_mtime, default=None)


def _load(path: Path) -> dict[str, Any] | None:
    from ruamel.yaml import YAML

    try:
        doc = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - a damaged record is not used, as DVC does
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("outs"), list) else None


def _checkout(root: Path, store: Path, out: dict[str, Any]) -> None:
    import json

    from mlopsctl.workspace.fsafe import inside

    target = inside(root, str(out["path"]))  # a record's path never leads out of the repository
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    md5 = str(out["md5"])
    if not md5.endswith(".dir"):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(object_path(store, md5), target)
        return
    for e in json.loads(object_path(store, md5).read_text(encoding="utf-8")):
        dest = target / str(e["relpath"])
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(object_path(store, str(e["md5"])), dest)


def restore(root: Path, stage: dict[str, Any], cache: StatCache, ignore: frozenset[str] = frozenset()
            ) -> tuple[dict[str, Any], Path] | None:
    """Check out the outputs of a cached run of ``stage`` and return (its entry, its record), or
    None when there is none to restore (the stage must run)."""
    inputs = _inputs(root, stage, cache, ignore)
    if inputs is None:
        return None
    store = cache_dir(root)
    key = run_key(inputs)
    record = _newest(store / "runs" / key[:2] / key)
    entry = _load(record) if record is not None else None
    if entry is None or record is None:
        return None
    outs = entry["outs"]
    paths = [o.get("path") for o in outs if isinstance(o, dict)]
    if paths != [o["path"] for o in inputs["outs"]]:
        return None
    if not all(isinstance(o.get("md5"), str) and in_store(store, o["md5"]) for o in outs):
        return None
    for out in outs:
        _checkout(root, store, out)
    return entry, record
