"""What DVC knows about a repository, read without importing dvc.

A no-op plan must not pay for ``import dvc`` (about a second) nor for ``dvc status`` (seconds
on big repos). Everything DVC decides a stage's status from is on disk in simple formats:
``dvc.lock`` (YAML), ``.dvc`` files (YAML), ``.dvc/config`` (INI), the cache layout
(``<cache>/files/md5/ab/cdef...``) and DVC 3's digests (plain md5 of a file's bytes; a directory
is the md5 of a JSON listing of its files, suffixed ``.dir``). This module reproduces exactly
that, with a stat cache so unchanged files are not read again.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mlopsctl.workspace import steady
from mlopsctl.workspace.digests import hash_file, open_file, read_small, stat_key, too_recent

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.workspace.digests import DigestCache

CACHE_FILE = "dvcfacts.json"


def _yaml_load(text: str) -> Any:
    # Machine-written files: a line reader several times faster than PyYAML's C loader (itself
    # several times faster than ruamel), falling back to PyYAML for anything unusual.
    from mlopsctl.specs.yamlio import load_block

    return load_block(text)


def md5_file(path: Path) -> str:
    """DVC 3's file digest: plain md5 of the bytes (``hash: md5``)."""
    return hash_file(path, "md5")


def sha256_file(path: Path) -> str:
    return hash_file(path, "sha256")


class Digest(NamedTuple):
    """A file's or a directory's digest as ``dvc.lock`` records it (a tuple: made thousands of times per plan)."""

    md5: str
    size: int
    nfiles: int | None = None  # directories only


def _kept(hit: Any, key: list[int]) -> bool:
    """A kept ``[*stat key, value]`` entry that holds for this stat."""
    return type(hit) is list and len(hit) == len(key) + 1 and hit[:-1] == key


class StatCache:
    """md5 by (path, inode, mtime, size), persisted under ``.mlopsctl/cache/`` between runs.

    With the run's :class:`~mlopsctl.workspace.digests.DigestCache` (``shared``), a trained model
    (the training contract's ``artifacts/<model>/model.joblib``, whose sha256 a version records) is
    hashed there: md5 and sha256 in one read, so the registry's read of the same file costs no
    second one. Every kept entry is checked for its shape when used: an edited cache is only
    ignored.
    """

    def __init__(self, root: Path, shared: DigestCache | None = None) -> None:
        self.root = root
        self.shared = shared
        self.path = root / ".mlopsctl" / "cache" / CACHE_FILE
        self.entries: dict[str, Any] = {}
        self.lock_memo: dict[str, Any] = {}
        self.dvcfiles: dict[str, Any] = {}
        """``.dvc`` file -> [*stat key, its single out]: parsed once per content."""
        self.dirty = False
        self.feed: Callable[[], bool] | None = None
        """Takes in what a helper process found meanwhile (:mod:`mlopsctl.pipeline.prefetch`);
        asked before anything is parsed or hashed here, True when it took any."""
        try:
            blob = json.loads(self.path.read_text(encoding="utf-8"))
            self.entries = blob.get("md5", {})
            self.lock_memo = blob.get("lock", {})
            self.dvcfiles = blob.get("dvcfiles", {})
        except (OSError, ValueError, AttributeError):
            pass
        if not all(isinstance(x, dict) for x in (self.entries, self.lock_memo, self.dvcfiles)):
            self.entries, self.lock_memo, self.dvcfiles = {}, {}, {}

    def file_md5(self, rel: str, st: os.stat_result | None = None) -> Digest | None:
        full = os.path.join(self.root, rel)
        try:
            st = st or os.stat(full)
        except OSError:
            return None
        key = stat_key(st)
        hit: Any = self.entries.get(rel)
        if not _kept(hit, key) and self.feed is not None and self.feed():
            hit = self.entries.get(rel)
        if _kept(hit, key) and type(hit[-1]) is str:
            return Digest(hit[-1], st.st_size)
        if self.shared is not None and _model_file(rel):
            md5 = self.shared.digests(full)["md5"]
        else:
            md5 = hash_file(full, "md5")
        if not too_recent(st.st_mtime_ns):
            self.entries[rel] = [*key, md5]
            self.dirty = True
        return Digest(md5, st.st_size)

    def dir_digest(self, rel: str, ignore: frozenset[str] = frozenset()) -> Digest | None:
        """DVC's directory digest: md5 of the sorted JSON listing ``[{"md5", "relpath"}]`` + ``.dir``."""
        found = self.listing(rel, ignore)
        if found is None:
            return None
        entries, size = found
        blob = json.dumps(entries, sort_keys=True).encode("utf-8")
        md5 = hashlib.md5(blob).hexdigest() + ".dir"
        # The ``.dir`` object of this digest holds these very bytes: what it lists is known
        # without reading it from the cache (in_store asks, a thousand times at a thousand models).
        _LISTINGS.setdefault(md5, [e["md5"] for e in entries])
        return Digest(md5, size, len(entries))

    def listing(self, rel: str, ignore: frozenset[str] = frozenset()) -> tuple[list[dict[str, str]], int] | None:
        """A directory's files as DVC lists them (``[{"md5", "relpath"}]`` sorted by relpath) and
        their total size; None when it is not there."""
        base = self.root / rel
        entries: list[dict[str, str]] = []
        size = 0
        prefix = len(str(base)) + 1
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if d not in ignore and d not in (".git", ".dvc")]
            for name in filenames:
                if name in ignore:
                    continue
                inner = os.path.join(dirpath, name)[prefix:].replace(os.sep, "/")
                d = self.file_md5(f"{rel}/{inner}")
                if d is None:
                    continue
                size += d.size
                entries.append({"md5": d.md5, "relpath": inner})
        if not entries and not base.is_dir():
            return None
        entries.sort(key=lambda e: e["relpath"])
        return entries, size

    def digest(self, rel: str, ignore: frozenset[str] = frozenset()) -> Digest | None:
        """A file's or a directory's digest as dvc.lock records it; None when the path is absent."""
        try:
            st = os.stat(os.path.join(self.root, rel))
        except OSError:
            return None
        if stat.S_ISDIR(st.st_mode):
            return self.dir_digest(rel, ignore)
        return self.file_md5(rel, st)

    def adopt(self, found: dict[str, Any]) -> bool:
        """Take in what a helper found, in this cache's own form (``md5``, ``dvcfiles``, ``lock``,
        and the shared cache's ``digests``) where this cache knows nothing yet; whether it took any.
        Each entry is checked against the file's stat when used, like a kept one."""
        took = False
        for name, table in (("md5", self.entries), ("dvcfiles", self.dvcfiles)):
            given = found.get(name)
            if isinstance(given, dict):
                for rel, entry in given.items():
                    if rel not in table and type(entry) is list:
                        table[rel] = entry
                        took = True
        lock = found.get("lock")
        if not self.lock_memo and isinstance(lock, dict) and lock:
            self.lock_memo = lock
            took = True
        digests = found.get("digests")
        if self.shared is not None and isinstance(digests, dict) and digests:
            took = self.shared.adopt(digests) or took
        self.dirty = self.dirty or took
        return took

    def save(self) -> None:
        while self.feed is not None and self.feed():
            pass  # what a helper found that this run never asked for is kept for the next one
        if not self.dirty:
            return
        from mlopsctl.workspace.fsafe import write_atomic

        try:
            blob = json.dumps({"md5": self.entries, "lock": self.lock_memo, "dvcfiles": self.dvcfiles},
                              separators=(",", ":"))
            write_atomic(self.path, blob, root=self.root, durable=False)
            self.dirty = False
        except OSError:
            pass  # a cache that cannot be written only costs time


_MODEL_NAME = "/model.joblib"
"""How every trained model's path ends (a quick test before the contract's)."""


def _model_file(rel: str) -> bool:
    """Whether ``rel`` is a trained model of the training contract (``artifacts/<model>/model.joblib``)."""
    if not rel.endswith(_MODEL_NAME):
        return False  # nearly every file: told without the contract
    from mlopsctl.pipeline.stages import model_file

    parts = rel.split("/")
    return len(parts) == 3 and rel == model_file(parts[1])


def stat_cache(ctx: Context) -> StatCache:
    """The run's one StatCache (a memo of the context), saved with the run's other memos."""

    def make() -> StatCache:
        from mlopsctl.pipeline.prefetch import feeder

        cache = StatCache(ctx.root, ctx.digests)
        cache.feed = feeder(ctx.root, cache)
        if cache.feed is not None and ctx.digests.feed is None:
            ctx.digests.feed = cache.feed  # the helper's digests are taken in by this cache
        atexit.register(cache.save)  # also when the run ends without saving (Ctrl-C)
        return cache

    return ctx.memo(StatCache, make)


# ------------------------------------------------------------------ dvc.lock and .dvc files


def load_lock(root: Path, cache: StatCache | None = None) -> dict[str, dict[str, Any]]:
    """Stages of ``dvc.lock`` by name ({} when there is none); parsed once per content."""
    path = root / "dvc.lock"
    try:
        st = path.stat()
    except OSError:
        return {}
    key = stat_key(st)
    if cache is not None and cache.lock_memo.get("key") != key and cache.feed is not None:
        cache.feed()
    if cache is not None and cache.lock_memo.get("key") == key and type(cache.lock_memo.get("stages")) is dict:
        stages: dict[str, dict[str, Any]] = cache.lock_memo["stages"]
        return stages
    data = _yaml_load(read_small(path).decode("utf-8")) or {}
    stages = dict(data.get("stages") or {}) if isinstance(data, dict) else {}
    if cache is not None and not too_recent(st.st_mtime_ns):
        cache.lock_memo = {"key": key, "stages": stages}
        cache.dirty = True
    return stages


def read_dvcfile(root: Path, data_path: str, cache: StatCache | None = None) -> dict[str, Any] | None:
    """The single out of ``<data_path>.dvc`` (md5, size, ...) or None when not tracked; with a
    ``cache``, parsed once per content (kept by the file's stat, like ``dvc.lock``)."""
    rel = f"{data_path}.dvc"
    path = os.path.join(root, rel)
    try:
        with os.fdopen(open_file(path), "rb") as f:
            st = os.fstat(f.fileno())
            key = stat_key(st)
            hit: Any = cache.dvcfiles.get(rel) if cache is not None else None
            if cache is not None and not _kept(hit, key) and cache.feed is not None and cache.feed():
                hit = cache.dvcfiles.get(rel)
            if _kept(hit, key) and (hit[-1] is None or type(hit[-1]) is dict):
                kept: dict[str, Any] | None = hit[-1]
                return kept
            text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    data = _yaml_load(text)
    outs = (data.get("outs") if isinstance(data, dict) else None) or []
    out: dict[str, Any] | None = outs[0] if isinstance(outs, list) and outs and isinstance(outs[0], dict) else None
    if cache is not None and not too_recent(st.st_mtime_ns):
        cache.dvcfiles[rel] = [*key, out]
        cache.dirty = True
    return out


# ------------------------------------------------------------------ config, cache, remote


def read_config(root: Path) -> dict[str, dict[str, str]]:
    """DVC's merged configuration (system, global, repo, local): see :mod:`mlopsctl.pipeline.config`."""
    from mlopsctl.pipeline.config import read_config as _read

    return _read(root)


def default_remote(root: Path) -> tuple[str, str] | None:
    """(name, url) of the default remote from every config level; a local url comes back absolute."""
    from mlopsctl.pipeline.config import default_remote as _default

    return _default(root)


def is_local_url(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


@steady.per_phase
def local_remote_dir(root: Path, url: str) -> Path:
    """A local remote's folder (relative to ``.dvc/``, as DVC resolves it), links resolved whichever
    way it is written (a spec's url and the configured one compare equal); once per steady phase."""
    url = url.removeprefix("file://")
    p = Path(url)
    return (p if p.is_absolute() else root / ".dvc" / p).resolve()


def cache_dir(root: Path) -> Path:
    """DVC's cache directory, wherever the config levels put it (a shared cache included)."""
    from mlopsctl.pipeline.config import cache_dir as _cache_dir

    return _cache_dir(root)


def object_path(store: Path, md5: str) -> Path:
    """Where DVC 3 keeps an object in a cache or a local remote."""
    return store / "files" / "md5" / md5[:2] / md5[2:]


def in_store(store: Path | str, md5: str) -> bool:
    """An object (and, for a directory, every file it lists) is present in ``store``."""
    base = os.path.join(os.fspath(store), "files", "md5")
    if not md5.endswith(".dir"):
        return _has(base, md5)
    listed = _LISTINGS.get(md5)
    if listed is None:
        try:
            with open(os.path.join(base, md5[:2], md5[2:]), encoding="utf-8") as f:
                listing = json.load(f)
        except (OSError, ValueError):
            return False
        listed = _LISTINGS[md5] = [str(e["md5"]) for e in listing if isinstance(e, dict) and "md5" in e]
    return _has(base, md5) and all(_has(base, m) for m in listed)


def _has(base: str, md5: str) -> bool:
    """One object is in a store (``base`` is its ``files/md5`` folder). While a plan is computed,
    by one listing of its two-letter folder: objects are named by their content, so only which
    names are there matters, and a plan's memo then records some hundred folders, not one path per
    object (thousands at a thousand models). Otherwise (apply adds objects) a stat of the object."""
    if not steady.active():
        return os.path.exists(os.path.join(base, md5[:2], md5[2:]))
    return md5[2:] in _names(os.path.join(base, md5[:2]))


@steady.per_phase
def _names(folder: str) -> frozenset[str]:
    """The objects of one two-letter folder of a store (none when it is not there); once per steady phase."""
    try:
        return frozenset(os.listdir(folder))  # a store's objects are plain files (never links)
    except OSError:
        return frozenset()


_LISTINGS: dict[str, list[str]] = {}
"""The files a ``.dir`` object lists, by its md5: content-addressed, so one read per process."""


def dvcignore_names(root: Path) -> frozenset[str]:
    """Plain names from ``.dvcignore`` (patterns without slashes or wildcards); enough for
    ``__pycache__``-style entries. Other patterns are not interpreted here."""
    try:
        text = (root / ".dvcignore").read_text(encoding="utf-8")
    except OSError:
        return frozenset()
    names = set()
    for line in text.splitlines():
        line = line.strip().rstrip("/")
        if line and not line.startswith(("#", "!")) and not any(c in line for c in "/*?["):
            names.add(line)
    return frozenset(names)


# ------------------------------------------------------------------ stage status


@dataclass(frozen=True)
class Reason:
    """Why a stage would run; ``kind`` is one of new, cmd, dep, param, out."""

    kind: str
    text: str


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys (``estimator.params.n_estimators``); a leaf at the top is ``""``."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types (``==`` alone takes 1 for 1.0 and True), mappings in any
    order: DVC writes params sorted by key, a spec keeps its own order."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return len(a) == len(b) and all(k in b and _same(v, b[k]) for k, v in a.items())
    if kind is list:
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


def param_changes(locked: Any, desired: Any) -> list[str]:
    """"estimator.params.n_estimators 100 -> 200"-style lines for every changed leaf."""
    if _same(locked, desired):
        return []
    old, new = flatten(locked or {}), flatten(desired or {})
    lines = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            lines.append(f"{key} added ({_short(new[key])})")
        elif key not in new:
            lines.append(f"{key} removed (was {_short(old[key])})")
        elif old[key] != new[key] or type(old[key]) is not type(new[key]):
            lines.append(f"{key} {_short(old[key])} -> {_short(new[key])}")
    return lines


def stage_status(
    root: Path,
    sdef: Any,
    lock_entry: dict[str, Any] | None,
    cache: StatCache,
    *,
    ignore: frozenset[str] = frozenset(),
    store: Path | None = None,
) -> tuple[list[Reason], dict[str, Any]]:
    """Why ``sdef`` (a :class:`~mlopsctl.pipeline.stages.StageDef`) would run, as ``dvc status``
    decides it, plus the current digests (the stage's actual state)."""
    reasons: list[Reason] = []
    current: dict[str, Any] = {"deps": {}, "outs": {}}
    for dep in sdef.deps:
        d = cache.digest(dep, ignore)
        current["deps"][dep] = d.md5 if d else None
    for out in sdef.written:
        d = cache.digest(out, ignore)
        current["outs"][out] = d.md5 if d else None
    if not lock_entry:
        reasons.append(Reason("new", f"stage {sdef.name} has not run yet (not in dvc.lock)"))
        for dep, md5 in current["deps"].items():
            if md5 is None:
                reasons.append(Reason("dep", f"dependency {dep} does not exist"))
        return reasons, current
    if str(lock_entry.get("cmd", "")).strip() != sdef.cmd:
        reasons.append(Reason("cmd", f"command changed: {_short(lock_entry.get('cmd'))!r} -> {sdef.cmd!r}"))
    locked_deps = {d.get("path"): d for d in lock_entry.get("deps") or () if isinstance(d, dict)}
    for dep, md5 in current["deps"].items():
        entry = locked_deps.get(dep)
        if md5 is None:
            reasons.append(Reason("dep", f"dependency {dep} does not exist"))
        elif entry is None:
            reasons.append(Reason("dep", f"new dependency {dep}"))
        elif entry.get("md5") != md5:
            what = "changed" if not md5.endswith(".dir") else "changed (files added, removed or edited)"
            reasons.append(Reason("dep", f"{dep} {what} (md5 {str(entry.get('md5'))[:8]} -> {md5[:8]})"))
    for dep in locked_deps:
        if dep not in current["deps"]:
            reasons.append(Reason("dep", f"dependency {dep} removed"))
    locked_params = (lock_entry.get("params") or {})
    if sdef.params_file not in locked_params:
        reasons.append(Reason("param", f"parameters {sdef.params_file} are new"))
    else:
        for line in param_changes(locked_params[sdef.params_file], sdef.params):
            reasons.append(Reason("param", line))
    locked_outs = {o.get("path"): o for o in lock_entry.get("outs") or () if isinstance(o, dict)}
    store = store or cache_dir(root)
    for out, md5 in current["outs"].items():
        entry = locked_outs.get(out)
        if entry is None:
            reasons.append(Reason("out", f"new output {out}"))
        elif md5 is None:
            reasons.append(Reason("out", f"output {out} is missing"))
        elif entry.get("md5") != md5:
            reasons.append(Reason("out", f"output {out} was modified since the last run"))
        elif out in sdef.outs and entry.get("cache", True) and not in_store(store, md5):
            # Only the outs are cached; metrics, reports and plots are kept in Git (cache: false).
            reasons.append(Reason("out", f"output {out} is not in the DVC cache"))
    for out in locked_outs:
        if out not in current["outs"]:
            reasons.append(Reason("out", f"output {out} is no longer declared"))
    return reasons, current
