"""The registry's Python API: what other capabilities (images, deployments) call.

Everything is read back from Git tags (one ``git for-each-ref``) and the DVC cache/remote, so
the registry needs no database and no state file. An artifact leaves :func:`materialize` only
after its sha256 matches the version's record.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError
from mlopsctl.registry.state import ModelRegistry, ModelVersion, RegistryState
from mlopsctl.registry.tags import parse_name

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.registry.tags import TagRecord
    from mlopsctl.registry.tagwriter import TagWriter

__all__ = ["ModelVersion", "assignment", "forget", "list_versions", "materialize", "resolve", "state_for",
           "write_and_remember"]


def list_versions(root: Path, model: str) -> list[ModelVersion]:
    """Active registered versions of ``model``, oldest first."""
    return list(RegistryState.read(Path(root)).model(model).versions)


def resolve(root: Path, model: str, ref: int | str) -> ModelVersion | None:
    """Version ``ref`` (a number, ``"vN"`` or ``"latest"``) of ``model``, or None if not registered."""
    return RegistryState.read(Path(root)).model(model).resolve(ref)


def assignment(root: Path, model: str, env: str) -> ModelVersion | None:
    """The version environment ``env`` serves now, per the tags (newest assignment wins)."""
    return RegistryState.read(Path(root)).model(model).assignments.get(env)


def state_for(ctx: Context) -> RegistryState:
    """The registry as of this run: the tags are read once while planning and once more when an
    apply run starts (a person may have run ``gto`` in between); apply then keeps it current with
    what it writes (:func:`write_and_remember`) instead of reading every tag again."""
    return ctx.run_memo(RegistryState, lambda: RegistryState.read(Path(ctx.root)))


def model_registry(ctx: Context, model: str) -> ModelRegistry:
    return state_for(ctx).model(model)


class Candidates(dict[str, "ModelVersion | None"]):
    """Per run: model -> the registered version equal to its training output in the working tree."""


def forget(ctx: Context) -> None:
    """Read the tags and the candidates afresh at next use (after a write this run did not remember)."""
    ctx.forget(RegistryState)
    ctx.forget(Candidates)


def forget_candidate(ctx: Context, model: str) -> None:
    """``model``'s training output may have changed (its stage just ran): look it up again."""
    ctx.run_memo(Candidates).pop(model, None)


@dataclass
class _Tagger:
    """Who tags in this run (``git var`` asked once), and the run's tag writer."""

    env: dict[str, str]
    writer: TagWriter | None
    """None where Git signs tags: then ``git tag`` writes each."""


def _tagger(root: Path) -> _Tagger:
    from mlopsctl.registry.tags import tagger_env
    from mlopsctl.registry.tagwriter import TagWriter, signs_tags

    env = tagger_env(root)
    return _Tagger(env, None if signs_tags(root, env) else TagWriter(root, env))


_FULL_OID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def write_and_remember(ctx: Context, name: str, commit: str, payload: dict[str, Any], *,
                       not_before: int = 0) -> TagRecord:
    """Write the annotated tag ``name`` on ``commit`` (a full object name) and fold it into the
    run's registry, which then equals a fresh read of every tag."""
    from mlopsctl.registry.tags import write_tag

    root = Path(ctx.root)
    state = state_for(ctx)  # read (once per run) before the write, so the new tag is added once
    tagger = ctx.run_memo(_Tagger, lambda: _tagger(root))
    try:
        full = bool(_FULL_OID.fullmatch(commit))  # a tag object names its target in full
        record = write_tag(root, name, commit, payload, not_before=not_before, env=tagger.env,
                           writer=tagger.writer if full else None)
    except MlopsError:
        ctx.forget(_Tagger)  # the writer stopped; the next write starts another
        raise
    if full:
        state.add(record)
    else:
        forget(ctx)  # what Git resolved ``commit`` to is known only by reading the tags
    parsed = parse_name(name)
    if parsed is not None:
        ctx.run_memo(Candidates).pop(parsed["model"], None)
    return record


def candidate_version(ctx: Context, model: str) -> ModelVersion | None:
    """The registered version equal to the training output in the working tree, or None."""
    from mlopsctl.registry.outputs import read_outputs

    memo = ctx.run_memo(Candidates)
    if model not in memo:
        doc = ctx.project.models.get(model)
        try:
            outputs = read_outputs(ctx, model, doc.model if doc else None)
        except MlopsError:
            outputs = None
        memo[model] = model_registry(ctx, model).by_sha256(outputs.sha256) if outputs else None
    return memo[model]


def resolve_for(ctx: Context, model: str, ref: int | str) -> ModelVersion | None:
    """Version ``ref`` as the specs mean it: ``latest`` is the version the current training output
    is registered as (after going back to earlier params, that earlier version), else the newest."""
    reg = model_registry(ctx, model)
    if isinstance(ref, str) and ref.strip().lower() == "latest":
        return candidate_version(ctx, model) or reg.latest
    return reg.resolve(ref)


# --------------------------------------------------------------------------- materialize


def _digests(path: Path) -> tuple[str, str]:
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            md5.update(chunk)
            sha.update(chunk)
    return md5.hexdigest(), sha.hexdigest()


def _local_candidates(root: Path, mv: ModelVersion) -> list[Path]:
    out: list[Path] = []
    md5 = mv.artifact_md5
    if len(md5) == 32:
        out.append(root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:])
        out.append(root / ".dvc" / "cache" / md5[:2] / md5[2:])  # DVC 2 layout
    if mv.artifact_path:
        # The working tree may still hold it; the digest check below decides whether it is the one.
        out.append(root / mv.artifact_path)
    return out


def _dvc_sources(root: Path, md5: str, tmp: Path, tried: set[Path]) -> Iterator[str]:
    """Fill ``tmp`` from DVC's configured cache, then its default remote; yields where from each time."""
    try:
        from dvc.config import RemoteConfigError

        from mlopsctl.pipeline.run import dvc_repo

        Repo = dvc_repo()
    except ImportError:  # pragma: no cover - dvc is a dependency
        return
    try:
        repo = Repo(str(root))
    except Exception:  # noqa: BLE001 - not a DVC repository: nothing to fetch from
        return
    with repo:
        odb = repo.cache.local
        path = odb.oid_to_path(md5)
        if Path(path).resolve() not in tried and odb.fs.exists(path):
            odb.fs.get_file(path, str(tmp))
            yield "the DVC cache"
        try:
            remote = repo.cloud.get_remote_odb(command="materialize")
        except RemoteConfigError:  # no default remote (or none usable): nothing to fetch from
            return
        rpath = remote.oid_to_path(md5)
        try:
            if not remote.fs.exists(rpath):
                return
            remote.fs.get_file(rpath, str(tmp))
        except OSError as e:
            raise MlopsError(f"cannot fetch {md5} from the DVC remote: {e}") from None
        yield "the DVC remote"


def materialize(root: Path, mv: ModelVersion, dest: Path) -> Path:
    """Copy version ``mv``'s artifact to ``dest`` (a file path, or an existing directory).

    Looks in the DVC cache, then the working tree, then fetches from the DVC remote. The copy
    is verified against the recorded sha256 (and md5) before it is moved into place; a missing
    or different artifact is an error and nothing is left at ``dest``.
    """
    root = Path(root)
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / (Path(mv.artifact_path).name or "model.joblib")
    if not mv.artifact_sha256:
        raise MlopsError(f"{mv.tag} records no artifact digest; it cannot be verified, so it is not used")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    mismatches: list[str] = []
    tried: set[Path] = set()
    try:
        for candidate in _local_candidates(root, mv):
            if not candidate.is_file():
                continue
            tried.add(candidate.resolve())
            shutil.copyfile(candidate, tmp)
            if _verified(tmp, mv, candidate.relative_to(root).as_posix(), mismatches):
                os.replace(tmp, dest)
                return dest
        if len(mv.artifact_md5) == 32:
            for source in _dvc_sources(root, mv.artifact_md5, tmp, tried):
                if _verified(tmp, mv, source, mismatches):
                    os.replace(tmp, dest)
                    return dest
    finally:
        tmp.unlink(missing_ok=True)
    if mismatches:
        raise MlopsError(
            f"artifact of {mv.tag} does not match its record (sha256 {mv.artifact_sha256[:12]}...): "
            + "; ".join(mismatches)
            + ". It was not used. Restore it with `dvc pull` or retrain and register a new version."
        )
    raise MlopsError(
        f"artifact of {mv.tag} (md5 {mv.artifact_md5}) is neither in the DVC cache nor on the DVC remote; "
        "push it from the machine that trained it (`dvc push`)"
    )


def _verified(path: Path, mv: ModelVersion, source: str, mismatches: list[str]) -> bool:
    md5, sha = _digests(path)
    if sha == mv.artifact_sha256 and (not mv.artifact_md5 or md5 == mv.artifact_md5):
        return True
    # The working tree holding another model is normal (it was retrained); a cache object whose
    # content differs from its name is tampering or corruption and worth saying.
    if source != mv.artifact_path:
        mismatches.append(f"{source} holds sha256 {sha[:12]}...")
    return False
