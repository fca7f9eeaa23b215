"""What a training run depended on, as one fingerprint: command, dependency digests, params.

Training is seeded, so equal inputs give an equal artifact. Each version records the
fingerprint of the ``dvc.lock`` entry it was trained from (``lineage.inputs``); a plan computes
the fingerprint the stage is about to train from (the current dependency digests, read the
way ``dvc status`` reads them). When it equals a registered version's, the plan can say which
version the training will reproduce instead of promising a new one.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.pipeline.stages import StageDef


class _StageByModel(dict[str, "StageDef"]):
    """Per run: model -> its stage (a lookup per registered version, not a scan of every stage)."""


def _stage_of(ctx: Context, model: str) -> StageDef | None:
    from mlopsctl.pipeline.files import stage_defs

    return ctx.memo(_StageByModel, lambda: _StageByModel((s.model, s) for s in reversed(stage_defs(ctx)))).get(model)


def fingerprint(cmd: str, deps: dict[str, Any], params: Any) -> str:
    blob = json.dumps({"cmd": str(cmd).strip(), "deps": dict(sorted(deps.items())), "params": params},
                      sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def locked_fingerprint(ctx: Context, model: str) -> str | None:
    """The fingerprint of the model's stage as ``dvc.lock`` records its last run."""
    from mlopsctl.pipeline import facts as dvcfacts

    sdef = _stage_of(ctx, model)
    if sdef is None:
        return None
    entry = dvcfacts.load_lock(ctx.root, dvcfacts.stat_cache(ctx)).get(sdef.name)
    if not entry:
        return None
    deps = {str(d.get("path")): d.get("md5") for d in entry.get("deps") or () if isinstance(d, dict)}
    params = (entry.get("params") or {}).get(sdef.params_file)
    return fingerprint(str(entry.get("cmd", "")), deps, params)


def desired_fingerprint(ctx: Context, model: str) -> str | None:
    """The fingerprint the stage would train from now (None when a dependency is missing)."""
    from mlopsctl.pipeline import facts as dvcfacts

    sdef = _stage_of(ctx, model)
    if sdef is None:
        return None
    cache = dvcfacts.stat_cache(ctx)
    ignore = dvcfacts.dvcignore_names(ctx.root)
    deps: dict[str, Any] = {}
    for dep in sdef.deps:
        d = cache.digest(dep, ignore)
        if d is None:
            return None
        deps[dep] = d.md5
    return fingerprint(sdef.cmd, deps, sdef.params)
