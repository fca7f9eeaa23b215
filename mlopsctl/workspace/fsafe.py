"""File-system steps that must not lose data: atomic writes, free backup names, pruning empty dirs.

A crash (kill -9, power loss) during a write leaves either the old or the new content, never
a mix; the temp files it may leave carry a recognisable suffix and are swept by the next write.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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


def write_atomic(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Temp file in the same directory, fsync, chmod, rename: readers see old or new, never half."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*{TMP_SUFFIX}"):  # left by a killed apply
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
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
