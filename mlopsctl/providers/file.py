"""The ``file`` kind: files rendered from templates/, each carrying an ownership header.

Actual state is the working tree. Nothing a person wrote is lost without consent: a file
without our header at a desired path is a conflict, and a hand edit (body no longer matches
the header's digest) is overwritten or deleted only when the edited bytes are committed at
HEAD or the user forces it, in which case a backup goes to ``.mlopsctl/backups/`` first.
"""

from __future__ import annotations

import difflib
import os
import stat as _stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.core.model import Action, Change, Resource, split_address
from mlopsctl.core.planmemo import on_ci_runner
from mlopsctl.errors import MlopsError, Problem, SpecError
from mlopsctl.files import file_sets, ownership
from mlopsctl.workspace import fsafe, git

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.files import ManagedFile

KIND = "file"


@dataclass
class _Files:
    """What this run planned for managed files."""

    rendered: dict[str, str] = field(default_factory=dict)
    """Path -> full text to write (header included)."""
    wanted: dict[str, ManagedFile] | None = None
    """Path -> ManagedFile, rendered lazily (None: not expanded yet in this run)."""
_FORBIDDEN_TOP = {".git", ".mlopsctl", ".dvc"}
_MAX_DIFF_LINES = 400
BACKUPS = ".mlopsctl/backups"
_NOT_A_FILE = {
    "directory": "a directory is there",
    "symlink": "a symbolic link is there",
    "parent": "one of its parent paths is a file",
    "other": "something other than a regular file is there",
    "outside": "it would resolve outside the repository",
}
DRIFT = "edited by hand since it was rendered (drift)"
NOT_COMMITTED = (
    "edited by hand and not committed: commit it, or rerun with --force "
    "(the edited file is kept under .mlopsctl/backups/)"
)


class FileProvider:
    kind = KIND
    reads_alone = False

    # -- desired ---------------------------------------------------------------------
    def expand(self, ctx: Context) -> Iterable[Resource]:
        memo = _render_memo(ctx)
        if not memo.path.exists() and on_ci_runner():
            memo = None  # a CI runner's clone is new, and gone after the job: no render would be found again
        cache = ctx.digests
        wanted: dict[str, ManagedFile] = {}
        origin: dict[str, str] = {}
        resources: list[Resource] = []
        files = ctx.memo(_Files)
        files.rendered = {}
        files.wanted = wanted
        for set_name, fileset in file_sets():
            for mf in fileset(ctx):
                path = _check_path(mf)
                label = f"file set {set_name!r} (templates/{mf.template})"
                if path in origin:
                    raise MlopsError(f"two file sets write the same file {path}: {origin[path]} and {label}")
                origin[path] = label
                wanted[path] = mf
                key = memo.key(mf.template, mf.context, cache) if memo is not None else None
                digest = memo.get(key) if memo is not None and key else None
                if digest is None:
                    _, digest = _render(ctx, path, mf)
                    if memo is not None and key:
                        memo.put(key, digest)
                resources.append(_resource(mf, path, digest))
        return resources

    def existing(self, ctx: Context) -> Iterable[str]:
        import glob

        from mlopsctl.files import MANAGED_GLOBS

        cache = ctx.digests
        root = os.fspath(ctx.root)
        seen: set[str] = set()
        for pattern in MANAGED_GLOBS:
            for rel in sorted(glob.glob(pattern, root_dir=root, include_hidden=True)):
                rel = rel.replace(os.sep, "/")
                if rel in seen or fsafe.is_temp(rel.rpartition("/")[2]):
                    continue
                seen.add(rel)
                if fsafe.outside_reason(root, rel):
                    continue  # reached through a symlink leading out: never ours, never read
                try:
                    st = os.lstat(os.path.join(root, rel))
                    if not _stat.S_ISREG(st.st_mode):
                        continue  # symlinks and directories are never ours
                    facts = cache.memo(rel, "file.facts", _facts, st=st)
                except OSError:
                    continue
                if facts["managed"]:
                    yield f"{KIND}.{rel}"

    # -- actual ----------------------------------------------------------------------
    def read(self, address: str, desired: Resource | None, ctx: Context) -> dict[str, Any] | None:
        return _read(ctx, _name(address), cached=True)

    def diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        from mlopsctl.core.model import fingerprint

        path = _name(address)
        if ctx.destroy:
            desired = None
        if desired is None:
            change = _diff_delete(ctx, address, path, actual)
        else:
            change = _diff_write(ctx, address, path, desired, actual)
        return change.with_(fingerprint=fingerprint(actual))

    # -- changes ---------------------------------------------------------------------
    def apply(self, change: Change, ctx: Context) -> dict[str, Any] | None:
        path = change.name
        full = ctx.root / path
        actual = _verify(ctx, change)
        if actual is not None and actual["type"] != "file":
            raise MlopsError(
                f"{path} cannot be written: {_NOT_A_FILE[actual['type']]}; move it away and run apply again"
            )
        content = change.payload.get("content")
        if content is None:
            content = _rendered(ctx, path)
        backup = _protect(ctx, change, path, actual)
        mode = int(change.payload.get("mode") or (change.after or {}).get("mode") or "644", 8)
        fsafe.write_atomic(full, content.encode("utf-8"), mode, root=ctx.root)
        ctx.digests.forget(full)
        facts: dict[str, Any] = {"path": path, "digest": (change.after or {}).get("digest")}
        if backup:
            facts["backup"] = backup
            ctx.note(f"{path}: previous content kept at {backup}")
        return facts

    def delete(self, change: Change, ctx: Context) -> None:
        path = change.name
        full = ctx.root / path
        actual = _verify(ctx, change)
        if actual is None:
            return
        if actual["type"] != "file" or not actual.get("managed"):
            raise MlopsError(f"{path} was not written by mlopsctl; it is left alone")
        backup = _protect(ctx, change, path, actual)
        fsafe.inside(ctx.root, path).unlink()
        ctx.digests.forget(full)
        if backup:
            ctx.note(f"{path}: deleted content kept at {backup}")
        fsafe.prune_empty_dirs(ctx.root, full.parent)


# -- helpers: desired ----------------------------------------------------------------
def _check_path(mf: ManagedFile) -> str:
    from mlopsctl.files import MANAGED_GLOBS

    path = mf.path
    where = f"templates/{mf.template}"
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or any(part in ("", "..", ".") for part in parts):
        raise MlopsError(f"managed file path {path!r} ({where}) must be a plain path inside the repository")
    if parts[0] in _FORBIDDEN_TOP:
        raise MlopsError(f"managed file path {path!r} ({where}) is inside {parts[0]}/, which mlopsctl never writes")
    if not any(_glob_match(parts, g) for g in MANAGED_GLOBS):
        raise MlopsError(
            f"managed file path {path!r} ({where}) matches none of MANAGED_GLOBS, so it could never be pruned; "
            "add a glob for it in mlopsctl/files/__init__.py"
        )
    if ownership.comment_style(path) is None:
        ownership.header_line(path, mf.template, "")  # raises the error that names the file
    return path


def _glob_match(parts: list[str], pattern: str) -> bool:
    """Segment-wise glob match of a split path: ``*`` never crosses a ``/`` (like glob.glob)."""
    pats = pattern.split("/")
    return len(parts) == len(pats) and all(fnmatchcase(a, b) for a, b in zip(parts, pats))


def _resource(mf: ManagedFile, path: str, body_digest: str) -> Resource:
    return Resource(
        kind=KIND,
        name=path,
        desired={"path": path, "template": mf.template, "digest": body_digest, "mode": f"{mf.mode:04o}"},
        depends_on=tuple(mf.depends_on),
        source=mf.source,
        model=mf.model,
    )


def _render_memo(ctx: Context) -> Any:
    from mlopsctl.files.templating import RenderMemo

    return ctx.memo(RenderMemo, lambda: RenderMemo(ctx.root))


def _render(ctx: Context, path: str, mf: ManagedFile) -> tuple[str, str]:
    """Render one managed file: (full text with header, body digest); kept for this run."""
    from mlopsctl.files.escape import UnsafeValue
    from mlopsctl.files.templating import render

    try:
        body = render(mf.template, mf.context)
    except UnsafeValue as e:
        if mf.source is None:
            raise
        raise SpecError([Problem(mf.source, f"a value here cannot be written into {path}: {e}")]) from None
    digest = ownership.body_digest(body.encode("utf-8"))
    text = ownership.compose(body, path, mf.template, digest)
    ctx.memo(_Files).rendered[path] = text
    return text, digest


def _rendered(ctx: Context, path: str) -> str:
    """The text planned for ``path``; renders it now if expand took its digest from the memo."""
    files = ctx.memo(_Files)
    if path in files.rendered:
        return files.rendered[path]
    if files.wanted is None:
        FileProvider().expand(ctx)
    mf = (files.wanted or {}).get(path)
    if mf is None:
        raise MlopsError(f"{path} is no longer produced by any file set; run mlopsctl plan again")
    return _render(ctx, path, mf)[0]


# -- helpers: actual -----------------------------------------------------------------
def _facts(p: Path) -> dict[str, Any]:
    from mlopsctl.workspace.digests import read_small

    parsed = ownership.parse(read_small(p))
    return {
        "managed": parsed.managed,
        "recorded_digest": parsed.recorded_digest,
        "template": parsed.template,
        "body_digest": parsed.body_digest,
    }


def _read(ctx: Context, path: str, *, cached: bool) -> dict[str, Any] | None:
    """What is at ``path`` now; ``cached=False`` re-reads the bytes (used right before writing)."""
    full = os.path.join(ctx.root, path)
    why = fsafe.outside_reason(ctx.root, path)
    if why:
        return {"exists": True, "type": "outside", "why": why}
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return {"exists": True, "type": "parent"}
    if _stat.S_ISLNK(st.st_mode):
        return {"exists": True, "type": "symlink", "target": os.readlink(full)}
    if _stat.S_ISDIR(st.st_mode):
        return {"exists": True, "type": "directory"}
    if not _stat.S_ISREG(st.st_mode):
        return {"exists": True, "type": "other"}
    facts = ctx.digests.memo(path, "file.facts", _facts, st=st) if cached else _facts(Path(full))
    return {"exists": True, "type": "file", **facts, "mode": f"{_stat.S_IMODE(st.st_mode):04o}"}


# -- helpers: diff -------------------------------------------------------------------
def _diff_delete(ctx: Context, address: str, path: str, actual: dict[str, Any] | None) -> Change:
    if actual is None or actual.get("type") != "file" or not actual.get("managed"):
        # Never delete what mlopsctl did not write.
        return Change(address, Action.NOOP, before=actual, after=None)
    reasons = ["destroy: removing a file mlopsctl wrote"] if ctx.destroy else ["no longer desired by the specs"]
    change = Change(address, Action.DELETE, before=actual, after=None, reasons=tuple(reasons))
    if _drifted(actual):
        change = _guard_hand_edit(ctx, change, path)
    return change


def _diff_write(ctx: Context, address: str, path: str, desired: Resource, actual: dict[str, Any] | None) -> Change:
    want = desired.desired
    if (
        actual is not None
        and actual["type"] == "file"
        and actual["managed"]
        and actual["body_digest"] == want["digest"]
        and not _drifted(actual)
        and _exec_bit(actual["mode"]) == _exec_bit(want["mode"])
    ):
        return Change(address, Action.NOOP, before=actual, after=want)  # the common case: nothing rendered
    text = _rendered(ctx, path)
    payload: dict[str, Any] = {"content": text, "mode": want["mode"]}
    template = f"templates/{want['template']}"
    if actual is None:
        return Change(
            address, Action.CREATE, after=want, reasons=(f"new file rendered from {template}",), payload=payload
        )
    if actual["type"] == "outside":
        blocked = f"{path} cannot be written: {actual['why']}; mlopsctl never writes outside the repository"
        return Change(
            address, Action.UPDATE, before=actual, after=want, reasons=(blocked,), blocked=blocked, payload=payload
        )
    if actual["type"] != "file":
        blocked = f"{path} cannot be written: {_NOT_A_FILE[actual['type']]}; move it away (mlopsctl never replaces it)"
        return Change(
            address, Action.UPDATE, before=actual, after=want, reasons=(blocked,), blocked=blocked, payload=payload
        )
    base = Change(address, Action.UPDATE, before=actual, after=want, payload=payload)
    if not actual["managed"]:
        change = base.with_(reasons=(f"{path} exists and was not written by mlopsctl",), diff=_udiff(ctx, path, text))
        if ctx.force:
            return _forced(ctx, change, path)
        return change.with_(
            blocked=f"{path} exists and was not written by mlopsctl; move it away, or rerun with "
            "--force (a backup is kept)"
        )
    body_ok = actual["body_digest"] == want["digest"]
    mode_ok = _exec_bit(actual["mode"]) == _exec_bit(want["mode"])
    drifted = _drifted(actual)
    if body_ok and mode_ok and not drifted:
        return Change(address, Action.NOOP, before=actual, after=want)
    reasons: list[str] = []
    if drifted and body_ok:
        reasons.append("edited by hand to exactly what the specs now render; only the header is rewritten")
    elif not body_ok and not drifted:
        reasons.append(f"template output changed ({template})")
        if actual.get("template") and actual["template"] != want["template"]:
            reasons.append(f"template templates/{actual['template']} -> {template}")
    if not mode_ok:
        reasons.append(f"mode {actual['mode']} -> {want['mode']}")
    change = base.with_(reasons=tuple(reasons), diff=None if body_ok else _udiff(ctx, path, text))
    if drifted and not body_ok:
        change = _guard_hand_edit(ctx, change.with_(reasons=(DRIFT, *reasons)), path)
    return change


def _guard_hand_edit(ctx: Context, change: Change, path: str) -> Change:
    """Allow losing a hand edit only when Git has it, or when forced (with a backup)."""
    data = (ctx.root / path).read_bytes()
    if git.committed_blob_equals(ctx.root, path, data):
        head = git.head_commit(ctx.root)
        return change.with_(
            reasons=(
                *change.reasons,
                f"the edited version is committed in Git at HEAD {git.short(head)}; nothing is lost",
            ),
        )
    if ctx.force:
        return _forced(ctx, change, path)
    return change.with_(blocked=NOT_COMMITTED)


def _forced(ctx: Context, change: Change, path: str) -> Change:
    backup = _backup_path(ctx, path)
    return change.with_(
        reasons=(*change.reasons, f"overwriting (forced); backup at {backup}"),
        payload={**change.payload, "backup": backup},
    )


def _udiff(ctx: Context, path: str, text: str) -> str | None:
    """Unified diff of the current body against the planned body (headers left out)."""
    try:
        before = ownership.parse((ctx.root / path).read_bytes()).body.decode("utf-8", errors="replace")
    except OSError:
        return None
    after = ownership.parse(text.encode("utf-8")).body.decode("utf-8")
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), f"a/{path}", f"b/{path}", lineterm=""))
    if len(lines) > _MAX_DIFF_LINES:
        lines = lines[:_MAX_DIFF_LINES] + [f"... ({len(lines) - _MAX_DIFF_LINES} more diff lines)"]
    return "\n".join(lines) or None


def _drifted(actual: dict[str, Any]) -> bool:
    return bool(actual.get("managed")) and actual.get("recorded_digest") != actual.get("body_digest")


def _exec_bit(mode: str) -> bool:
    # Git records only the executable bit; comparing more would flap between checkouts.
    return bool(int(mode, 8) & 0o111)


# -- helpers: apply ------------------------------------------------------------------
def _verify(ctx: Context, change: Change) -> dict[str, Any] | None:
    """Re-read the file from disk and refuse if it is not what the plan saw, or is blocked."""
    from mlopsctl.core.model import fingerprint

    path = change.name
    if change.blocked and not ctx.force:
        raise MlopsError(f"{path}: {change.blocked}")
    actual = _read(ctx, path, cached=False)
    if change.fingerprint is not None and fingerprint(actual) != change.fingerprint:
        raise MlopsError(
            f"{path} changed since the plan was made (edited while planning or applying?); nothing was written. "
            "Run mlopsctl plan again and review it."
        )
    return actual


def _protect(ctx: Context, change: Change, path: str, actual: dict[str, Any] | None) -> str | None:
    """Back up content about to be lost: a hand edit or unmanaged file that Git cannot bring back.

    The plan already decided the change may go ahead (``_verify`` checked it is unblocked and
    that the file is what the plan saw); this only makes sure the bytes survive it. Git is
    asked again because HEAD may have moved since the plan.
    """
    if actual is None or actual["type"] != "file":
        return None
    if actual.get("managed") and not _drifted(actual):
        return None  # our own rendering: the specs and templates reproduce it
    after = change.after or {}
    if actual.get("managed") and change.action is Action.UPDATE and actual["body_digest"] == after.get("digest"):
        return None  # the hand edit is exactly the new body: nothing is lost
    data = (ctx.root / path).read_bytes()
    promised = change.payload.get("backup")
    if not promised and git.committed_blob_equals(ctx.root, path, data):
        return None
    target = fsafe.free_name(ctx.root / (promised or _backup_path(ctx, path)))
    fsafe.write_atomic(target, data, _stat.S_IMODE(os.stat(ctx.root / path).st_mode), root=ctx.root)
    return target.relative_to(ctx.root).as_posix()


def _backup_path(ctx: Context, path: str) -> str:
    # The plan's own time, so re-deriving a saved plan names the same backup.
    stamp = "".join(ch for ch in ctx.now.partition("+")[0] if ch.isalnum()) + "Z"
    return f"{BACKUPS}/{stamp}/{path}"


def _name(address: str) -> str:
    kind, name = split_address(address)
    if kind != KIND or not name:
        raise MlopsError(f"not a file address: {address!r}")
    return name
