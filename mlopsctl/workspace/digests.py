"""Content digests memoised by file stat, so a no-op plan costs a ``stat`` per file, not a read.

The cache lives at ``<root>/.mlopsctl/cache/digests.json``. An entry is trusted only while the
file's ``(mtime_ns, ctime_ns, size, inode)`` are unchanged *and* the entry was computed safely
after the file's last modification: file systems stamp times with a coarse clock, so a file
rewritten within the same clock tick as our read could keep its stat (Git's "racy" problem).
Such racy entries are recomputed on the next run. A corrupt or unreadable cache is ignored; it
is only ever a shortcut, never a source of truth.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat as _stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from mlopsctl.errors import MlopsError
from mlopsctl.workspace.fsafe import write_atomic

T = TypeVar("T")

CACHE_RELPATH = ".mlopsctl/cache/digests.json"
_FORMAT = 1
_CHUNK = 1 << 20
# Linux file systems stamp times with the kernel's coarse clock (a few ms per tick); file
# systems with one-second stamps (their mtime_ns is a whole second) need a wider margin.
_RACY_NS = 50_000_000
_RACY_COARSE_NS = 2_000_000_000


_HASHES: dict[str, Callable[[], Any]] = {"md5": hashlib.md5, "sha256": hashlib.sha256}


def _new_hash(algo: str) -> Any:
    """A hash object: md5 and sha256 by their constructors (``hashlib.new`` looks them up each time)."""
    return _HASHES[algo]() if algo in _HASHES else hashlib.new(algo)


def _chunks(path: Path | str) -> Iterator[bytes]:
    """A file's bytes, a chunk at a time. os.open and os.read, not open(): no buffered file object
    per file, which was two thirds of the time of hashing a small file (a cold plan hashes and
    reads thousands). Still an "open" audit event."""
    fd = open_file(path)
    try:
        while chunk := os.read(fd, _CHUNK):
            yield chunk
    finally:
        os.close(fd)


def open_file(path: Path | str) -> int:
    """A descriptor of ``path`` opened for reading; a named pipe or a device is refused
    (:class:`NotAFileError`): opened without blocking, as a pipe would wait for a writer forever."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if _stat.S_ISFIFO(mode) or _stat.S_ISCHR(mode) or _stat.S_ISBLK(mode):
            raise NotAFileError(os.fsdecode(path), mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


class NotAFileError(MlopsError):
    """A named pipe or a device where a file is read: it could block or never end, so it is refused."""

    def __init__(self, path: str, mode: int) -> None:
        kind = "a named pipe" if _stat.S_ISFIFO(mode) else "a device"
        super().__init__(f"{path}: {kind}, where mlopsctl reads a file; only regular files are read "
                         "(replace it with the file, or a symlink to one)")


def _read_into(path: Path | str, hashes: list[Any]) -> None:
    for chunk in _chunks(path):
        for h in hashes:
            h.update(chunk)


def read_small(path: Path | str) -> bytes:
    """A file's bytes, read as :func:`hash_file` reads (a plan reads a thousand managed files'
    headers, specs and metrics)."""
    return b"".join(_chunks(path))


def hash_file(path: Path | str, algo: str = "sha256") -> str:
    """Hash a file's bytes without the cache (reads it in chunks)."""
    h = _new_hash(algo)
    _read_into(path, [h])
    return h.hexdigest()  # type: ignore[no-any-return]


def hash_file_all(path: Path | str, algos: tuple[str, ...]) -> dict[str, str]:
    """Several digests of a file's bytes in one read (a model of gigabytes is read once, not twice)."""
    hs = {a: _new_hash(a) for a in algos}
    _read_into(path, list(hs.values()))
    return {a: h.hexdigest() for a, h in hs.items()}


def stat_key(st: os.stat_result) -> list[int]:
    """What identifies a file's content for every stat-keyed cache of the project."""
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]


def too_recent(mtime_ns: int, checked_ns: int | None = None) -> bool:
    """The one "too recent to trust" rule of every stat-keyed cache: a fact about a file read
    (at ``checked_ns``, default now) within one timestamp tick of its last modification may
    be stale while the stat stays the same, so it is not trusted (or not stored)."""
    margin = _RACY_COARSE_NS if mtime_ns % 1_000_000_000 == 0 else _RACY_NS
    return (time.time_ns() if checked_ns is None else checked_ns) - mtime_ns < margin


class DigestCache:
    """Stat-keyed memo of facts about files (digests and anything derived from the bytes).

    Keys are repository-relative POSIX paths (absolute paths for files outside the root).
    Each entry holds the stat it was computed for and a dict of named values; any change
    of the stat drops every value of that file.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.path = self.root / CACHE_RELPATH
        self._root = os.fspath(self.root)
        self._prefix = self._root.rstrip(os.sep) + os.sep
        self._entries: dict[str, dict[str, Any]] | None = None
        self._dirty = False
        self.feed: Callable[[], bool] | None = None
        """Takes in what a helper process found meanwhile (:meth:`adopt`); asked before anything
        is computed here, True when it took any."""

    # -- persistence -------------------------------------------------------------------
    def _load(self) -> dict[str, dict[str, Any]]:
        if self._entries is None:
            entries: dict[str, dict[str, Any]] = {}
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(raw, dict) and raw.get("format") == _FORMAT and isinstance(raw.get("files"), dict):
                    entries = {k: v for k, v in raw["files"].items() if _valid_entry(v)}
            except (OSError, ValueError):
                pass  # absent or corrupt: start empty, it is only a cache
            self._entries = entries
        return self._entries

    def save(self) -> bool:
        """Write the cache atomically if anything changed; returns whether it wrote.

        Failure to write (read-only checkout, full disk) is not an error: the next run
        simply recomputes.
        """
        if not self._dirty or self._entries is None:
            return False
        blob = json.dumps({"format": _FORMAT, "files": self._entries}, separators=(",", ":"), sort_keys=True)
        try:
            write_atomic(self.path, blob, root=self.root, durable=False)
        except OSError:
            return False
        self._dirty = False
        return True

    # -- lookups -----------------------------------------------------------------------
    def key(self, path: Path | str) -> str:
        return self._locate(path)[1]

    def _locate(self, path: Path | str) -> tuple[str, str]:
        """(full path, cache key); plain string work, as this runs once per file per plan."""
        p = os.fspath(path)
        if not os.path.isabs(p):
            return os.path.join(self._root, p), p.replace(os.sep, "/")
        if p.startswith(self._prefix):
            return p, p[len(self._prefix) :].replace(os.sep, "/")
        return p, Path(p).as_posix()

    def memo(self, path: Path | str, name: str, compute: Callable[[Path], T], *, st: os.stat_result | None = None) -> T:
        """``compute(path)`` memoised under ``name`` for the file's current stat.

        ``compute`` must derive its JSON-serialisable result from the file's bytes only.
        ``st`` is the file's stat when the caller has it already. Raises FileNotFoundError
        (and other OSErrors) like ``os.stat`` would.
        """
        full, key = self._locate(path)
        if st is None:
            st = os.stat(full)
        stat = stat_key(st)
        entries = self._load()
        entry = entries.get(key)
        if (entry is None or entry["stat"] != stat) and self.feed is not None and self.feed():
            entry = entries.get(key)
        if entry is not None and entry["stat"] == stat and not too_recent(st.st_mtime_ns, entry["checked"]):
            values = entry["values"]
            if name in values:
                return values[name]  # type: ignore[no-any-return]
        checked = time.time_ns()
        value = compute(Path(full))
        if entry is None or entry["stat"] != stat:
            entry = {"stat": stat, "checked": checked, "values": {}}
            entries[key] = entry
        elif too_recent(st.st_mtime_ns, entry["checked"]):
            # Recomputed now, later than before: the entry may become trustworthy.
            entry["checked"] = checked
            entry["values"] = {}
        entry["values"][name] = value
        self._dirty = True
        return value

    def digest(self, path: Path | str, algo: str = "sha256") -> str:
        """Hex digest of a file's bytes (``sha256`` or ``md5``), from the cache when its stat is unchanged."""
        if algo not in ("sha256", "md5"):
            raise ValueError(f"unsupported digest algorithm {algo!r}")
        return self.memo(path, algo, lambda p: hash_file(p, algo))

    def digests(self, path: Path | str, algos: tuple[str, ...] = ("md5", "sha256"), *,
                st: os.stat_result | None = None) -> dict[str, str]:
        """:meth:`digest` for several algorithms; those not cached are computed in one read.
        ``st`` is the file's stat when the caller has it already (one stat, not one per algorithm)."""
        if any(a not in ("sha256", "md5") for a in algos):
            raise ValueError(f"unsupported digest algorithms {algos!r}")
        read: dict[str, str] = {}

        def once(algo: str) -> Callable[[Path], str]:
            def compute(p: Path) -> str:
                if not read:
                    read.update(hash_file_all(p, algos))
                return read[algo]

            return compute

        if st is None:
            st = os.stat(self._locate(path)[0])
        return {a: self.memo(path, a, once(a), st=st) for a in algos}

    def adopt(self, found: dict[str, Any]) -> bool:
        """Take in entries found by another process, in this cache's own form, for files it knows
        nothing of yet; whether it took any. Each is checked against the file's stat when used."""
        entries = self._load()
        took = False
        for key, entry in found.items():
            if key not in entries and _valid_entry(entry):
                entries[key] = entry
                took = True
        self._dirty = self._dirty or took
        return took

    def forget(self, path: Path | str) -> None:
        """Drop what is known about a file (e.g. right after writing it)."""
        if self._load().pop(self.key(path), None) is not None:
            self._dirty = True


def _valid_entry(v: Any) -> bool:
    return (
        isinstance(v, dict)
        and isinstance(v.get("stat"), list)
        and isinstance(v.get("checked"), int)
        and isinstance(v.get("values"), dict)
    )
