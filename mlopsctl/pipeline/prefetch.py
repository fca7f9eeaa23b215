"""What a first plan will ask for (DVC facts, parsed specs), found by a second process meanwhile.

A plan of many models parses ``dvc.lock`` and every ``.dvc`` file and hashes every stage's
dependencies and outputs (:mod:`mlopsctl.pipeline.facts`). On a fresh clone, every CI runner's,
none of it is cached, and it is about a quarter of the plan; loading, validating and expanding
the specs, which come first, do not need it. So when there is no kept cache of those facts and a
second core, :func:`start` forks a helper as the command starts. The helper fills a
:class:`~mlopsctl.pipeline.facts.StatCache` of its own exactly as the plan would, for the paths
``dvc.lock`` names, and says what it found in batches (:class:`~mlopsctl.workspace.forked.Channel`),
in the form the cache keeps on disk, then that it has finished. Whenever the plan is about to parse or
hash something itself, its cache first takes in the batches that have arrived (:func:`feeder`); it
never waits for the helper.

The helper first parses model specs (:func:`mlopsctl.specs.load.parse_valid`) when no parsed
specs are kept (``.mlopsctl/cache/specs.json``): from the last one back, while the plan parses
from the first one on, and a page of memory the two share says where the plan has got to, so the
helper stops where they meet. The plan takes a document from the helper only for the very bytes
it read itself (their sha256), and only a document valid on its own: what a spec's parse gives is
a function of its bytes. Then the helper finds the facts.

Nothing the helper says is trusted beyond what a kept cache is: an entry holds for one stat of
its file (inode, size, mtime and ctime) and is used only while the plan's own stat agrees, and a
file modified within one timestamp tick of its reading is not kept at all. A helper that fails, is
killed or writes something unreadable only costs time: the plan computes those facts itself.

The helper is forked before the plan memo is looked up or records anything, and only from a
process without threads (:func:`mlopsctl.workspace.forked.fork`). It closes every inherited
descriptor but its channel, opens nothing but regular files and directories (a FIFO named as a
dependency is skipped), and ends with ``os._exit``: no exit handler of the plan's runs in it. The
plan ends it once the plan is computed (:func:`finish`) and reaps it, so its CPU time is counted
as the plan's.

``MLOPSCTL_FACTS_HELPER=off`` never starts one; ``on`` starts one whatever the size (tests); unset,
one is started on a machine with two cores or more, for a ``dvc.lock`` of :data:`MIN_LOCK_BYTES`
or more, when ``.mlopsctl/cache/`` keeps no DVC facts.
"""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.workspace import forked

if TYPE_CHECKING:
    from mlopsctl.pipeline.facts import StatCache
    from mlopsctl.workspace.forked import Channel

ENV = "MLOPSCTL_FACTS_HELPER"
KEPT_FACTS = os.path.join(".mlopsctl", "cache", "dvcfacts.json")
"""Where the run's cache of DVC facts is kept (``facts.CACHE_FILE``): a plan that finds it needs
no helper. Spelled out here, so a plan that starts none imports nothing for it."""
MIN_LOCK_BYTES = 64 * 1024
"""About forty stages: below that the facts cost less than starting a helper."""
KEPT_SPECS = os.path.join(".mlopsctl", "cache", "specs.json")
"""Where parsed specs are kept (:mod:`mlopsctl.specs.cache`): with them, the helper parses none."""
_BATCH = 64
"""Files hashed per line written: the plan takes in what has arrived, line by line."""
_SPEC_BATCH = 16
"""Specs parsed per line written."""


class _Helper:
    """A running helper, and what it has said so far (:class:`~mlopsctl.workspace.forked.Channel`)."""

    def __init__(self, pid: int, channel: Channel, progress: mmap.mmap | None = None) -> None:
        self.pid = pid
        self.channel = channel
        self.progress = progress
        """Shared with the helper: the index of the spec file the plan is loading."""
        self.specs: dict[str, Any] = {}
        """Parsed specs arrived, by path, as :mod:`mlopsctl.specs.cache` keeps them."""
        self.pending: list[dict[str, Any]] = []
        """Batches of facts arrived, not yet taken in by the run's cache."""
        self.done = False
        """Nothing more is taken in: the helper said it has finished, or something was unreadable."""


_helpers: dict[str, _Helper] = {}


def wanted(root: Path) -> bool:
    """Whether a helper is worth starting for this repository (see the module's docstring)."""
    how = os.environ.get(ENV, "").strip().lower()
    if how == "off" or not hasattr(os, "fork"):
        return False
    if how != "on" and os.path.exists(os.path.join(root, KEPT_FACTS)):
        return False
    try:
        size = os.stat(os.path.join(root, "dvc.lock")).st_size
    except OSError:
        return False
    return how == "on" or (size >= MIN_LOCK_BYTES and forked.cores() >= 2)


def start(root: Path) -> None:
    """Fork the helper for ``root`` when :func:`wanted`; nothing when it is not, or cannot be."""
    key = os.fspath(root)
    if key in _helpers or not wanted(root) or forked.threads() > 1:
        return  # a process with threads is never forked
    import atexit

    try:
        progress = mmap.mmap(-1, 8)  # anonymous and shared: the helper sees the plan's writes
    except (OSError, ValueError):
        progress = None
    try:
        channel = forked.Channel()
    except OSError:
        return
    pid = forked.fork(lambda: _work(Path(root), channel, progress), keep=(channel.fd,))
    if pid is None:
        channel.close()
        return
    if not _helpers:
        atexit.register(finish)  # a run that ends early (an error, a reused plan) reaps it too
    _helpers[key] = _Helper(pid, channel, progress)


def feeder(root: Path, cache: StatCache) -> Callable[[], bool] | None:
    """For the run's cache: a function that takes in the batches arrived so far (True when it
    took any), or None when no helper runs for ``root``."""
    helper = _helpers.get(os.fspath(root))
    if helper is None:
        return None

    def feed() -> bool:
        return _take(helper, cache)

    return feed


def _take(helper: _Helper, cache: StatCache) -> bool:
    _arrived(helper)
    took = False
    while helper.pending:
        took = cache.adopt(helper.pending.pop(0)) or took
    return took


def _arrived(helper: _Helper) -> None:
    """Take the lines arrived so far: parsed specs into ``helper.specs``, facts into
    ``helper.pending``. Something unreadable ends it: nothing after it is taken either."""
    if helper.done:
        return
    for batch in helper.channel.received():
        if not isinstance(batch, dict):
            continue
        specs = batch.pop("specs", None)
        if isinstance(specs, dict):
            helper.specs.update(specs)
        if batch.pop("end", None) is True:
            helper.done = True
        if batch:
            helper.pending.append(batch)
    if helper.channel.broken:
        helper.done = True


class _Specs:
    """The specs a helper parsed, for the loader (:class:`mlopsctl.specs.load.Parsed`)."""

    def __init__(self, helper: _Helper) -> None:
        self.helper = helper

    def reached(self, index: int) -> None:
        if self.helper.progress is not None:
            self.helper.progress[:8] = max(index, 0).to_bytes(8, "little")

    def get(self, rel: str, digest: str) -> tuple[dict[str, Any], dict[str, tuple[int, int]]] | None:
        helper = self.helper
        if rel not in helper.specs:
            _arrived(helper)
        from mlopsctl.specs.cache import document

        entry = helper.specs.pop(rel, None)
        doc = document(entry) if isinstance(entry, dict) else None
        return (doc[0], doc[1]) if doc is not None and doc[2] == digest else None


def parsed_specs(root: Path) -> _Specs | None:
    """For the loader: the specs the helper of ``root`` parses (None when no helper runs)."""
    helper = _helpers.get(os.fspath(root))
    return _Specs(helper) if helper is not None else None


def finish(root: Path | None = None) -> None:
    """End the helper of ``root`` (every helper: None) and reap it; what it did not say is lost."""
    for key in [k for k in _helpers if root is None or k == os.fspath(root)]:
        helper = _helpers.pop(key)
        forked.reap(helper.pid)
        helper.channel.close()


# ------------------------------------------------------------------ in the helper


def _work(root: Path, out: Channel, progress: mmap.mmap | None) -> None:
    from mlopsctl.pipeline.facts import StatCache, load_lock, read_dvcfile
    from mlopsctl.workspace.digests import DigestCache

    if progress is not None and not os.path.exists(os.path.join(root, KEPT_SPECS)):
        _parse_specs(root, out, progress)

    shared = DigestCache(root)
    sent = {"md5": 0, "digests": len(shared._load()), "dvcfiles": 0}
    cache = StatCache(root, shared)
    stages = load_lock(root, cache)
    out.send({"lock": cache.lock_memo})
    paths: list[str] = []
    for entry in stages.values():
        for group in ("deps", "outs"):
            for item in (entry.get(group) or ()) if isinstance(entry, dict) else ():
                path = item.get("path") if isinstance(item, dict) else None
                if isinstance(path, str) and path and not os.path.isabs(path) and ".." not in path.split("/"):
                    paths.append(path)
    done = 0
    for path in dict.fromkeys(paths):
        if os.path.isfile(os.path.join(root, f"{path}.dvc")):
            read_dvcfile(root, path, cache)
        done += _hash(root, path, cache)
        if done >= _BATCH:
            _send_new(out, cache, shared, sent)
            done = 0
    _send_new(out, cache, shared, sent)
    out.send({"end": True})


def _parse_specs(root: Path, out: Channel, progress: mmap.mmap) -> None:
    """Parse model specs from the last one back, until the one the plan has started on."""
    import hashlib

    from mlopsctl.specs.cache import entry
    from mlopsctl.specs.load import parse_valid, spec_files

    files = spec_files(root)
    batch: dict[str, Any] = {}
    for index in range(len(files) - 1, 0, -1):  # files[0] is mlops.yaml: the plan's first
        if index <= int.from_bytes(progress[:8], "little"):
            break
        rel = files[index]
        full = os.path.join(root, rel)
        try:
            if not stat.S_ISREG(os.stat(full).st_mode):
                continue
            with open(full, "rb") as f:
                raw = f.read()
        except OSError:
            continue
        doc = parse_valid(rel, raw, "Model")
        if doc is not None:
            batch[rel] = entry(*doc, hashlib.sha256(raw).hexdigest())
        if len(batch) >= _SPEC_BATCH:
            out.send({"specs": batch})
            batch = {}
    if batch:
        out.send({"specs": batch})


def _hash(root: Path, rel: str, cache: StatCache) -> int:
    """Hash ``rel`` (a file, or every file of a directory) into ``cache``; how many files."""
    full = os.path.join(root, rel)
    try:
        st = os.stat(full)
    except OSError:
        return 0
    if stat.S_ISREG(st.st_mode):
        cache.file_md5(rel, st)
        return 1
    if not stat.S_ISDIR(st.st_mode):
        return 0  # a FIFO or a device is never opened here
    count = 0
    prefix = len(full) + 1
    for dirpath, dirnames, filenames in os.walk(full):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".dvc")]
        for name in filenames:
            inner = os.path.join(dirpath, name)
            try:
                fst = os.stat(inner)
            except OSError:
                continue
            if stat.S_ISREG(fst.st_mode):
                cache.file_md5(f"{rel}/{inner[prefix:].replace(os.sep, '/')}", fst)
                count += 1
    return count


def _send_new(out: Channel, cache: StatCache, shared: Any, sent: dict[str, int]) -> None:
    """Send what each table gained since the last batch: entries are added at their end (one
    rewritten in place is not sent again; the plan finds it itself)."""
    from itertools import islice

    batch = {}
    for table, entries in (("md5", cache.entries), ("digests", shared._load()), ("dvcfiles", cache.dvcfiles)):
        batch[table] = dict(islice(entries.items(), sent[table], None))
        sent[table] = len(entries)
    if any(batch.values()):
        out.send(batch)

