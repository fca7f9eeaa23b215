"""The user's ``src/`` package in a serving image: when a version needs it, and its files as of
the version's commit (read from Git, never the working tree)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlopsctl.errors import MlopsError

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.registry.api import ModelVersion


def user_code_reason(ctx: Context, mv: ModelVersion) -> str | None:
    """Why version ``mv`` needs the repository's ``src/`` in its image, or None.

    A model whose estimator class lives under ``src.`` is pickled by reference to that module,
    and so is any object a custom train command under ``src/`` pickles: the serving image
    cannot unpickle it without the code. The version's lineage decides; the spec is the
    fallback for what the lineage does not record.
    """
    lineage = mv.lineage or {}
    doc = ctx.project.models.get(mv.model)
    spec = doc.model if doc else None
    estimator = lineage.get("estimator") or (spec.estimator.class_ if spec else None)
    if isinstance(estimator, str) and estimator.startswith("src."):
        return f"estimator {estimator}"
    cmd = lineage.get("train_cmd")
    if isinstance(cmd, str) and any(word.removeprefix("./").startswith("src/") for word in cmd.split()):
        return f"train command {cmd!r}"
    for dep in spec.train.deps if spec and spec.train else ():
        if dep.removeprefix("./").startswith("src/") or dep.rstrip("/") == "src":
            return f"train.deps {dep}"
    return None


def _git_out(root: Path, *args: str, data: bytes | None = None) -> bytes:
    from mlopsctl.workspace import git

    return git.run(root, *args, input=data, binary=True)


def user_code(root: Path, commit: str) -> dict[str, bytes]:
    """``src/**/*.py`` as committed in ``commit``: repository-relative path -> bytes.

    Read from Git, not the working tree, so the image holds the code the version was
    registered with. Only Python sources: no ``__pycache__``, data or notebooks, and no
    symlinks or submodules (they could point outside the repository).
    """
    try:
        _git_out(root, "cat-file", "-e", f"{commit}^{{commit}}")
    except MlopsError:
        raise MlopsError(
            f"commit {commit[:12]} is not in this clone, so its src/ cannot be copied into the image; "
            "fetch the full history (git fetch --unshallow, or fetch-depth: 0 in CI)"
        )
    listing = _git_out(root, "ls-tree", "-r", "-z", "--full-tree", commit, "--", "src")
    wanted: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, kind, oid = meta.decode().split()
        path = raw_path.decode("utf-8", errors="surrogateescape")
        if kind != "blob" or mode not in ("100644", "100755"):
            continue
        if not path.endswith(".py") or "__pycache__" in path.split("/"):
            continue
        wanted.append((path, oid))
    if not wanted:
        return {}
    batch = _git_out(root, "cat-file", "--batch", data="".join(f"{oid}\n" for _, oid in wanted).encode())
    out: dict[str, bytes] = {}
    pos = 0
    for path, _oid in wanted:
        header_end = batch.index(b"\n", pos)
        size = int(batch[pos:header_end].split()[2])
        out[path] = batch[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1  # the content is followed by a newline
    return dict(sorted(out.items()))


@dataclass
class _UserCode:
    """``src/`` files read in this run, by commit."""

    by_commit: dict[str, dict[str, bytes]] = field(default_factory=dict)


def user_code_for(ctx: Context, mv: ModelVersion) -> dict[str, bytes]:
    """The ``src/`` files version ``mv``'s image needs (empty when it needs none)."""
    reason = user_code_reason(ctx, mv)
    if reason is None:
        return {}
    memo = ctx.memo(_UserCode).by_commit
    code = memo.get(mv.commit)
    if code is None:
        code = memo[mv.commit] = user_code(Path(ctx.root), mv.commit)
    if not code:
        raise MlopsError(
            f"{mv.tag} needs the repository's src/ to be served ({reason}), but its commit {mv.commit[:12]} has "
            "no src/*.py: commit src/, then train and register a new version"
        )
    return code
