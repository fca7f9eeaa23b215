"""File-system steps that must not lose data: atomic writes, free backup names, pruning empty dirs.

A crash (kill -9, power loss) during a write leaves either the old or the new content, never
a mix; the temp files it may leave carry a recognisable suffix and are swept by the next write.
The repository is the boundary: :func:`inside` refuses a path that leads out of it through
``..``, an absolute path or a symbolic link (a folder or the file itself), and every write into
the repository goes through it. A refused write is a :class:`~mlopsctl.errors.WriteError` that
names the path and the reason (a full disk, a read-only file system), never a traceback.
"""

from __future__ import annotations

import errno as _errno
import functools
import os
import stat as _stat
from pathlib import Path

from mlopsctl.errors import WriteError
from mlopsctl.workspace import steady

_HINTS = {
    _errno.ENOSPC: "no space left on the device (the disk is full)",
    _errno.EDQUOT: "the disk quota is exceeded",
    _errno.EROFS: "the file system is read-only",
    _errno.EACCES: "permission denied",
    _errno.EPERM: "operation not permitted",
    _errno.ELOOP: "a loop of symbolic links",
    _errno.ENOTDIR: "one of its parent paths is a file, not a folder",
    _errno.EISDIR: "a folder is there",
}


_realpath = steady.per_phase(os.path.realpath)
"""The repository's real path, resolved once per steady phase."""


def describe(e: OSError) -> str:
    """The reason of an OSError in words a person acts on."""
    return _HINTS.get(e.errno or -1) or e.strerror or str(e)


@steady.per_phase
def outside_reason(root: Path | str, path: Path | str) -> str | None:
    """Why ``path`` (absolute, or relative to ``root``) resolves outside ``root``; None when it stays inside.

    Walks the path one component at a time from the repository root, following each symbolic
    link it meets, so a symlinked folder (``.github -> /elsewhere``), a symlinked file, ``..``
    and symlink loops are all caught before anything is read or written. Once per path in a
    steady phase (a plan asks it of a file when listing and again when reading it), and once
    per folder: the thousand files of one folder walk it once.
    """
    top = os.path.abspath(root)
    real_top = _realpath(top)
    full = os.path.normpath(os.path.join(top, path))
    if full == top:
        return None
    prefix = top if top.endswith(os.sep) else top + os.sep
    if not full.startswith(prefix):
        return f"{os.fspath(path)!r} leads outside the repository"
    return _walk(real_top, full[len(prefix):])


def _walk(real_top: str, rel: str) -> str | None:
    """Why ``rel`` (normalised, inside) leads outside when followed from ``real_top``, one part at
    a time; None when it stays inside. Each part's answer is kept for the steady phase, so the
    files of one folder walk it once (a loop, not a recursion: a path may have a thousand parts)."""
    cur, walked = real_top, ""
    for part in rel.split(os.sep):
        walked = f"{walked}/{part}" if walked else part
        why, found = steady.remembered((_step, real_top, walked), functools.partial(_step, real_top, cur, part, walked))
        if why is not None or found is None:
            return why
        cur = found
    return None


def _step(real_top: str, cur: str, part: str, walked: str) -> tuple[str | None, str | None]:
    """One part followed from the real folder ``cur``: (why it leads outside, None); or (None,
    where it really is); or (None, None) when it does not exist yet (whatever is created there is
    created inside, lexically)."""
    cand = os.path.join(cur, part)
    try:
        st = os.lstat(cand)
    except (FileNotFoundError, NotADirectoryError):
        return None, None
    except OSError as e:
        return f"{walked}: {describe(e)}", None
    if not _stat.S_ISLNK(st.st_mode):
        return None, cand
    try:
        os.stat(cand)
    except OSError as e:
        if e.errno == _errno.ELOOP:
            return f"{walked} is a loop of symbolic links", None
    target = os.path.realpath(cand)
    if target != real_top and not target.startswith(real_top + os.sep):
        return f"{walked} is a symbolic link to {target}, outside the repository", None
    return None, target


def inside(root: Path, path: Path | str) -> Path:
    """``root / path`` once it is sure to stay inside the repository; WriteError naming why not."""
    why = outside_reason(root, path)
    if why:
        raise WriteError(f"refusing to touch {os.fspath(path)}: {why}; mlopsctl never reads or writes outside it")
    return Path(root) / path


def free_name(p: Path) -> Path:
    """``p``, or ``p.1``, ``p.2``... if a backup is already there (never overwrite a backup)."""
    candidate, n = p, 0
    while candidate.exists():
        n += 1
        candidate = p.with_name(f"{p.name}.{n}")
    return candidate


TMP_SUFFIX = ".mlopsctl-tmp"


def is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def ensure_dir(d: Path) -> Path:
    """Create folder ``d`` of the repository (``d.parent`` is the root), saying clearly why it cannot be."""
    root = d.parent
    inside(root, d.name)
    if d.exists() and not d.is_dir():
        raise WriteError(f"{d.name} is a file, but mlopsctl keeps its state in the folder {d.name}/; move the file away")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteError(f"cannot create {d.name}/ in {root}: {describe(e)}", e.errno) from None
    return d


def open_in(d: Path, name: str, flags: int) -> int:
    """``os.open`` of a file in a state folder made by :func:`ensure_dir`; WriteError naming it on failure."""
    try:
        return os.open(d / name, flags, 0o644)
    except OSError as e:
        raise WriteError(f"cannot open {d.name}/{name}: {describe(e)}", e.errno) from None


def write_atomic(path: Path, data: bytes | str, mode: int = 0o644, *, root: Path | None = None,
                 durable: bool = True) -> None:
    """Temp file in the same directory, fsync, chmod, rename: readers see old or new, never half.

    With ``root`` (every write into the repository), the path must stay inside it. Only
    permission bits are ever set (no setuid, setgid or sticky bit). A write the file system
    refuses raises WriteError naming the path. ``durable=False`` skips the fsyncs, for caches
    whose loss after a power cut only costs time (a torn file is read as no cache).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if root is not None:
        inside(root, path)
    try:
        _write(path, data, mode & 0o777, durable)
    except WriteError:
        raise
    except OSError as e:
        shown = os.path.relpath(path, root) if root is not None else os.fspath(path)
        raise WriteError(f"cannot write {shown}: {describe(e)}", e.errno) from None


def _write(path: Path, data: bytes, mode: int, durable: bool = True) -> None:
    import tempfile  # a plan that writes nothing (a reused one) starts without it

    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*{TMP_SUFFIX}"):  # left by a killed apply
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def fsync_dir(d: Path) -> None:
    """Make a rename in ``d`` durable (best effort: not every platform can fsync a directory)."""
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


def prune_empty_dirs(root: Path, d: Path) -> None:
    """Remove ``d`` and then its parents while they are empty; never ``root`` or anything above it."""
    root = root.resolve()
    d = d.resolve()
    while d != root and root in d.parents:
        try:
            d.rmdir()  # only succeeds when empty
        except OSError:
            return
        d = d.parent
