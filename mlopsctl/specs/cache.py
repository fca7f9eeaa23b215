"""A stat-keyed cache of parsed, valid spec documents in ``.mlopsctl/cache/specs.json``.

Parsing YAML with locations and validating it against a schema costs milliseconds per file;
a repository of 1,000 models must still plan a no-op in well under a second. A file whose
(mtime_ns, size, inode, ctime_ns) match the cached entry is taken from the cache, and then
neither ruamel.yaml nor jsonschema is imported at all.

Only documents that were valid on their own are cached, so every problem is found again on
the next run. The cache is a convenience: a corrupt or foreign-version file is ignored and
rebuilt, and failing to write it (read-only checkout) is not an error.

The file is JSON lines: the stamp, then one ``[path, entry]`` per document. When one spec of a
thousand is edited, the other entries are written back as the very lines they were read as.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mlopsctl import __version__
from mlopsctl.workspace.digests import stat_key, too_recent
from mlopsctl.workspace.paths import SCHEMAS

FORMAT = 3


def _stamp() -> str:
    """Identifies what produced the entries: a new mlopsctl or edited schemas invalidate them."""
    parts = [f"v{FORMAT}", __version__]
    for name in ("project.schema.json", "model.schema.json"):
        try:
            st = os.stat(SCHEMAS / name)
            parts.append(f"{name}:{st.st_mtime_ns}:{st.st_size}")
        except OSError:
            parts.append(f"{name}:missing")
    return "|".join(parts)


def entry(data: dict[str, Any], lines: dict[str, tuple[int, int]], digest: str) -> dict[str, Any]:
    """A valid document as it is kept (here, and as the facts helper sends it): its digest, data,
    and its lines flat, keys then ``[line, col, line, col, ...]``."""
    return {"digest": digest, "data": data, "keys": list(lines), "pos": [n for lc in lines.values() for n in lc]}


def document(kept: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[int, int]], str] | None:
    """``(data, lines, digest)`` back from an :func:`entry`; None when it is not of that shape."""
    try:
        keys, pos = kept["keys"], kept["pos"]
        data, digest = kept["data"], str(kept["digest"])
    except (KeyError, TypeError):
        return None
    if not (isinstance(data, dict) and isinstance(keys, list) and isinstance(pos, list)
            and len(pos) == 2 * len(keys)):
        return None
    # Stored flat: rebuilding 50,000 pairs stays in C.
    it = iter(pos)
    return data, dict(zip(keys, zip(it, it))), digest


class SpecCache:
    """Entries by repo-relative path: ``{"stat": [...], "digest", "data", "keys", "pos"}``."""

    def __init__(self, root: Path) -> None:
        self.file = root / ".mlopsctl" / "cache" / "specs.json"
        self.stamp = _stamp()
        self.entries: dict[str, dict[str, Any]] = {}
        self.used: set[str] = set()
        self.dirty = False
        self._lines: dict[str, bytes] = {}
        """Path -> the line its entry was read from, while the entry is the one read."""
        self._load()

    def _load(self) -> None:
        try:
            with open(self.file, "rb") as f:
                stamp, *lines = f.read().split(b"\n")
        except OSError:
            return
        try:
            if json.loads(stamp) != {"stamp": self.stamp}:
                raise ValueError("another stamp")
            entries: dict[str, dict[str, Any]] = {}
            for line in lines:
                path, entry = json.loads(line)
                if not isinstance(path, str) or not isinstance(entry, dict):
                    raise TypeError("not a path and its entry")
                entries[path] = entry
                self._lines[path] = line
        except (ValueError, TypeError):
            self._lines = {}
            self.dirty = True  # corrupt or another format: rewritten in ours
            return
        self.entries = entries

    def get(self, relpath: str, st: os.stat_result) -> dict[str, Any] | None:
        """The cached document if the file is unchanged since it was cached; lines as tuples."""
        self.used.add(relpath)
        entry = self.entries.get(relpath)
        if not isinstance(entry, dict) or entry.get("stat") != stat_key(st):
            return None
        doc = document(entry)
        return None if doc is None else {"data": doc[0], "lines": doc[1], "digest": doc[2]}

    def put(self, relpath: str, st: os.stat_result, data: dict[str, Any], lines: dict[str, tuple[int, int]],
            digest: str) -> None:
        self.used.add(relpath)
        if too_recent(st.st_mtime_ns):
            self.entries.pop(relpath, None)
            return
        self.entries[relpath] = {"stat": stat_key(st), **entry(data, lines, digest)}
        self._lines.pop(relpath, None)
        self.dirty = True

    def forget(self, relpath: str) -> None:
        self.used.add(relpath)
        self._lines.pop(relpath, None)
        if self.entries.pop(relpath, None) is not None:
            self.dirty = True

    def save(self) -> None:
        """Write atomically when something changed; entries of files that are gone are dropped."""
        stale = set(self.entries) - self.used
        for k in stale:
            del self.entries[k]
        if not (self.dirty or stale):
            return
        from mlopsctl.workspace.fsafe import write_atomic

        lines = [json.dumps({"stamp": self.stamp}).encode()]
        for path, entry in self.entries.items():
            line = self._lines.get(path)
            lines.append(line if line is not None else json.dumps([path, entry], separators=(",", ":")).encode())
        try:
            write_atomic(self.file, b"\n".join(lines), root=self.file.parents[2], durable=False)
        except OSError:
            return  # read-only checkout: run without the cache
        self.dirty = False
