"""The ``file`` kind: files rendered from templates/, each carrying an ownership header.

Actual state is the working tree. Nothing a person wrote is lost without consent: a file
without our header at a desired path is a conflict, and a hand edit (body no longer matches
the header's digest) is overwritten or deleted only when the edited bytes are committed at
HEAD or the user forces it, in which case a backup goes to ``.mlopsctl/backups/`` first.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import os
import stat as _stat
from collections.abc import Iterable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from mlopsctl.core import digests, gitfacts, ownership
from mlopsctl.core.model import Action, Change, Resource
from mlopsctl.errors import MlopsError

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.files import ManagedFile

KIND = "file"
_RENDERED = "file.rendered"  # ctx.cache key: path -> full text to write (header included)
_FORBIDDEN_TOP = {".git", ".mlopsctl", ".dvc"}
_MAX_DIFF_LINES = 400
BACKUPS = ".mlopsctl/backups"
DRIFT = "edited by hand since it was rendered (drift)"
NOT_COMMITTED = (
    "edited by hand and not committed: commit it, or rerun with --force "
    "(the edited file is kept under .mlopsctl/backups/)"
)


class FileProvider:
    kind = KIND

    # -- desired ---------------------------------------------------------------------
    def expand(self, ctx: Context) -> Iterable[Resource]:
        from mlopsctl.core.templating import render

        rendered: dict[str, str] = {}
        origin: dict[str, str] = {}
        resources: list[Resource] = []
        for set_name, fileset in _named_file_sets():
            for mf in fileset(ctx):
                path = _check_path(mf)
                label = f"file set {set_name!r} (templates/{mf.template})"
                if path in origin:
                    raise MlopsError(f"two file sets write the same file {path}: {origin[path]} and {label}")
                origin[path] = label
                text = ownership.compose(render(mf.template, mf.context), path, mf.template)
                rendered[path] = text
                resources.append(_resource(mf, path, text))
        ctx.cache[_RENDERED] = rendered
        return resources

    def existing(self, ctx: Context) -> Iterable[str]:
        from mlopsctl.files import MANAGED_GLOBS

        cache = digests.for_context(ctx)
        seen: set[str] = set()
        for pattern in MANAGED_GLOBS:
            for p in sorted(ctx.root.glob(pattern)):
                rel = p.relative_to(ctx.root).as_posix()
                if rel in seen or _is_temp(p.name) or p.is_symlink() or not p.is_file():
                    continue
                seen.add(rel)
                try:
                    facts = cache.memo(p, "file.facts", _facts)
                except OSError:
                    continue
                if facts["managed"]:
                    yield f"{KIND}.{rel}"

    # -- actual ----------------------------------------------------------------------
    def read(self, address: str, desired: Resource | None, ctx: Context) -> dict[str, Any] | None:
        return _read(ctx, _name(address), cached=True)

    def diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        from mlopsctl.core.plan import fingerprint

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
            raise MlopsError(f"{path} exists and is a {actual['type']}; move it away and run apply again")
        content = change.payload.get("content")
        if content is None:
            content = _rendered(ctx, path)
        backup = _protect(ctx, change, path, actual)
        mode = int(change.payload.get("mode") or (change.after or {}).get("mode") or "644", 8)
        _write_atomic(full, content.encode("utf-8"), mode)
        digests.for_context(ctx).forget(full)
        facts: dict[str, Any] = {"path": path, "digest": (change.after or {}).get("digest")}
        if backup:
            facts["backup"] = backup
            ctx.log(f"{path}: previous content kept at {backup}")
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
        full.unlink()
        digests.for_context(ctx).forget(full)
        if backup:
            ctx.log(f"{path}: deleted content kept at {backup}")
        _prune_empty_dirs(ctx.root, full.parent)


# -- helpers: desired ----------------------------------------------------------------
def _named_file_sets() -> Iterator[tuple[str, Any]]:
    """Every registered file set with its name (for messages naming who writes a file)."""
    import importlib
    import importlib.util

    from mlopsctl import files

    for set_name, target in files.FILE_SETS.items():
        module, _, fn = target.partition(":")
        # TODO(integration): drop this tolerance once every file set module exists.
        if importlib.util.find_spec(module) is None:
            continue
        yield set_name, getattr(importlib.import_module(module), fn)


def _check_path(mf: ManagedFile) -> str:
    from mlopsctl.files import MANAGED_GLOBS

    p = PurePosixPath(mf.path)
    where = f"templates/{mf.template}"
    if not mf.path or p.is_absolute() or "\\" in mf.path or any(part in ("..", ".") for part in mf.path.split("/")):
        raise MlopsError(f"managed file path {mf.path!r} ({where}) must be a plain path inside the repository")
    if p.parts[0] in _FORBIDDEN_TOP:
        raise MlopsError(f"managed file path {mf.path!r} ({where}) is inside {p.parts[0]}/, which mlopsctl never writes")
    if not any(_glob_match(mf.path, g) for g in MANAGED_GLOBS):
        raise MlopsError(
            f"managed file path {mf.path!r} ({where}) matches none of MANAGED_GLOBS, so it could never be pruned; "
            "add a glob for it in mlopsctl/files/__init__.py"
        )
    ownership.header_line(mf.path, mf.template, "0" * 64)  # fails early for files without comments
    return mf.path


def _glob_match(path: str, pattern: str) -> bool:
    """Segment-wise glob match: ``*`` never crosses a ``/`` (like pathlib's glob)."""
    parts, pats = path.split("/"), pattern.split("/")
    return len(parts) == len(pats) and all(fnmatchcase(a, b) for a, b in zip(parts, pats))


def _resource(mf: ManagedFile, path: str, text: str) -> Resource:
    body_digest = ownership.parse(text.encode("utf-8")).body_digest
    return Resource(
        kind=KIND,
        name=path,
        desired={"path": path, "template": mf.template, "digest": body_digest, "mode": f"{mf.mode:04o}"},
        depends_on=tuple(mf.depends_on),
        source=mf.source,
        model=mf.model,
    )


def _rendered(ctx: Context, path: str) -> str:
    """The text planned for ``path``; renders the file sets again if this run has not yet."""
    if _RENDERED not in ctx.cache:
        FileProvider().expand(ctx)
    try:
        return str(ctx.cache[_RENDERED][path])
    except KeyError:
        raise MlopsError(f"{path} is no longer produced by any file set; run mlopsctl plan again") from None


# -- helpers: actual -----------------------------------------------------------------
def _facts(p: Path) -> dict[str, Any]:
    parsed = ownership.parse(p.read_bytes())
    return {
        "managed": parsed.managed,
        "recorded_digest": parsed.recorded_digest,
        "template": parsed.template,
        "body_digest": parsed.body_digest,
    }


def _read(ctx: Context, path: str, *, cached: bool) -> dict[str, Any] | None:
    """What is at ``path`` now; ``cached=False`` re-reads the bytes (used right before writing)."""
    full = ctx.root / path
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return {"exists": True, "type": "other"}
    if _stat.S_ISLNK(st.st_mode):
        return {"exists": True, "type": "symlink", "target": os.readlink(full)}
    if _stat.S_ISDIR(st.st_mode):
        return {"exists": True, "type": "directory"}
    if not _stat.S_ISREG(st.st_mode):
        return {"exists": True, "type": "other"}
    facts = digests.for_context(ctx).memo(full, "file.facts", _facts) if cached else _facts(full)
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
    text = _rendered(ctx, path)
    payload: dict[str, Any] = {"content": text, "mode": want["mode"]}
    template = f"templates/{want['template']}"
    if actual is None:
        return Change(address, Action.CREATE, after=want, reasons=(f"new file rendered from {template}",),
                      payload=payload)
    if actual["type"] != "file":
        blocked = f"{path} exists and is a {actual['type']}; move it away (mlopsctl never replaces it)"
        return Change(address, Action.UPDATE, before=actual, after=want, reasons=(blocked,), blocked=blocked,
                      payload=payload)
    base = Change(address, Action.UPDATE, before=actual, after=want, payload=payload)
    if not actual["managed"]:
        change = base.with_(reasons=(f"{path} exists and was not written by mlopsctl",), diff=_udiff(ctx, path, text))
        if ctx.force:
            return _forced(ctx, change, path)
        return change.with_(blocked=f"{path} exists and was not written by mlopsctl; move it away, or rerun with "
                            "--force (a backup is kept)")
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
    if gitfacts.committed_blob_equals(ctx.root, path, data):
        head = gitfacts.head_commit(ctx.root)
        return change.with_(
            reasons=(*change.reasons, f"the edited version is committed in Git at HEAD {gitfacts.short(head)}; "
                     "nothing is lost"),
            payload={**change.payload, "hand_edit": True},
        )
    if ctx.force:
        return _forced(ctx, change, path)
    return change.with_(blocked=NOT_COMMITTED, payload={**change.payload, "hand_edit": True})


def _forced(ctx: Context, change: Change, path: str) -> Change:
    backup = _backup_path(ctx, path)
    return change.with_(
        reasons=(*change.reasons, f"overwriting (forced); backup at {backup}"),
        payload={**change.payload, "hand_edit": True, "backup": backup},
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
    from mlopsctl.core.plan import fingerprint

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
    if not promised and gitfacts.committed_blob_equals(ctx.root, path, data):
        return None
    target = _free(ctx.root / (promised or _backup_path(ctx, path)))
    _write_atomic(target, data, _stat.S_IMODE(os.stat(ctx.root / path).st_mode))
    return target.relative_to(ctx.root).as_posix()


def _backup_path(ctx: Context, path: str) -> str:
    stamp = ctx.cache.setdefault("file.backup_stamp", _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    return f"{BACKUPS}/{stamp}/{path}"


def _free(p: Path) -> Path:
    """``p``, or ``p.1``, ``p.2``... if a backup is already there (never overwrite a backup)."""
    candidate, n = p, 0
    while candidate.exists():
        n += 1
        candidate = p.with_name(f"{p.name}.{n}")
    return candidate


_TMP_SUFFIX = ".mlopsctl-tmp"


def _is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(_TMP_SUFFIX)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Temp file in the same directory, fsync, chmod, rename: readers see old or new, never half."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*{_TMP_SUFFIX}"):  # left by a killed apply
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _prune_empty_dirs(root: Path, d: Path) -> None:
    root = root.resolve()
    d = d.resolve()
    while d != root and root in d.parents:
        try:
            d.rmdir()  # only succeeds when empty
        except OSError:
            return
        d = d.parent


def _name(address: str) -> str:
    kind, _, name = address.partition(".")
    if kind != KIND or not name:
        raise MlopsError(f"not a file address: {address!r}")
    return name
