"""Where registered versions' artifacts are: the DVC cache and the project's current remote.

A registered version is only as good as its artifact. Every version must be in the current
DVC remote (a new remote, a wiped one, or a push that never happened is a gap apply closes by
pushing from the cache), and every version an environment serves must be in the local cache
(``dvc gc`` may have collected it; apply restores it from the remote). A version in neither
place is lost here: the plan says so, apply cannot invent it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlopsctl.errors import MlopsError
from mlopsctl.pipeline import facts as dvcfacts

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.registry.state import ModelRegistry


@dataclass(frozen=True)
class Gaps:
    remote: str = ""
    """The default remote's name and url, for messages."""
    push: tuple[int, ...] = field(default_factory=tuple)
    """Versions missing from the remote whose artifact the cache has."""
    fetch: tuple[int, ...] = field(default_factory=tuple)
    """Served versions missing from the cache whose artifact the remote has."""
    lost: tuple[int, ...] = field(default_factory=tuple)
    """Versions in neither place."""

    def reasons(self) -> list[str]:
        out = [f"v{v}'s artifact is not in DVC remote {self.remote}: apply pushes it from the DVC cache"
               for v in self.push]
        out += [f"v{v} is served but its artifact is not in the DVC cache (collected by `dvc gc`?): apply restores "
                f"it from remote {self.remote}" for v in self.fetch]
        out += [f"v{v}'s artifact is neither in the DVC cache nor in remote {self.remote}: push it from a machine "
                "that has it (`dvc push`)" for v in self.lost]
        return out

    @property
    def actionable(self) -> bool:
        return bool(self.push or self.fetch)


def artifact_gaps(ctx: Context, reg: ModelRegistry) -> Gaps:
    from mlopsctl.pipeline.remote import present

    root = Path(ctx.root)
    versions = [mv for mv in reg.versions if len(mv.artifact_md5) == 32]
    remote = dvcfacts.default_remote(root) if (root / ".dvc").is_dir() else None
    if not versions or remote is None:
        return Gaps()
    cache = dvcfacts.cache_dir(root)
    on_remote = present(ctx, [mv.artifact_md5 for mv in versions])
    served = {mv.version for mv in reg.assignments.values()}
    push: list[int] = []
    fetch: list[int] = []
    lost: list[int] = []
    for mv in versions:
        cached = dvcfacts.in_store(cache, mv.artifact_md5)
        if not on_remote[mv.artifact_md5]:
            (push if cached else lost).append(mv.version)
        elif not cached and mv.version in served:
            fetch.append(mv.version)
    return Gaps(f"{remote[0]!r} ({remote[1]})", tuple(push), tuple(fetch), tuple(lost))


def version_objects(root: Path, model: str, commit: str, artifact_md5: str) -> list[str]:
    """The DVC objects of a version: its artifact, and the output directory that holds it as the
    version's commit records it (``dvc.lock`` or a ``.dvc`` file), so ``dvc pull`` at the tag works."""
    import yaml

    from mlopsctl.workspace import git

    found = [artifact_md5]
    for path in ("dvc.lock", f"artifacts/{model}.dvc"):
        shown = git.output(root, "show", f"{commit}:{path}")
        if shown is None:
            continue
        data = yaml.safe_load(shown.decode("utf-8", "replace")) or {}
        entries = [o for st in (data.get("stages") or {}).values() for o in (st.get("outs") or ())]
        entries += list(data.get("outs") or ())
        for out in entries:
            if isinstance(out, dict) and str(out.get("path", "")).rstrip("/") == f"artifacts/{model}":
                found.append(str(out.get("md5")))
    return list(dict.fromkeys(m for m in found if m and m != "None"))


def close_gaps(ctx: Context, reg: ModelRegistry, gaps: Gaps) -> dict[str, list[int]]:
    """Push what the remote lacks and fetch what the cache lacks, through DVC's object stores."""
    from mlopsctl.pipeline.remote import forget, transfer

    root = Path(ctx.root)
    if not gaps.actionable:
        return {}
    by_version = {mv.version: mv for mv in reg.versions}
    for direction, versions in (("push", gaps.push), ("fetch", gaps.fetch)):
        objects = [o for v in versions
                   for o in version_objects(root, reg.model, by_version[v].commit, by_version[v].artifact_md5)]
        if objects:
            ctx.log(f"  {direction} " + ", ".join(f"v{v}" for v in versions) + f" ({len(objects)} objects)")
            transfer(root, objects, direction)
    forget(ctx)
    after = artifact_gaps(ctx, reg)
    left = [v for v in (*gaps.push, *gaps.fetch) if v in (*after.push, *after.fetch)]
    if left:
        raise MlopsError("still missing after the transfer: " + "; ".join(after.reasons()))
    return {"pushed": list(gaps.push), "restored": list(gaps.fetch)}
