"""The stat-keyed digest cache: correct first, fast second."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from mlopsctl.workspace.digests import DigestCache


def age(p: Path, seconds: float = 10) -> None:
    """Make a file look written a while ago, so its cache entry is not 'racy'."""
    t = time.time() - seconds
    os.utime(p, (t, t))


def test_digest_matches_hashlib(tmp_path: Path) -> None:
    p = tmp_path / "f.bin"
    p.write_bytes(b"hello" * 1000)
    cache = DigestCache(tmp_path)
    assert cache.digest(p) == hashlib.sha256(b"hello" * 1000).hexdigest()
    assert cache.digest("f.bin", "md5") == hashlib.md5(b"hello" * 1000).hexdigest()
    with pytest.raises(ValueError):
        cache.digest(p, "sha1")


def test_cache_persists_and_is_used_when_stat_unchanged(tmp_path: Path) -> None:
    p = tmp_path / "f.txt"
    p.write_text("one")
    age(p)
    first = DigestCache(tmp_path)
    first.digest(p)
    assert first.save() is True
    assert first.save() is False  # nothing new: no write
    saved = json.loads((tmp_path / ".mlopsctl/cache/digests.json").read_text())
    assert "f.txt" in saved["files"]

    calls: list[Path] = []
    second = DigestCache(tmp_path)
    value = second.memo(p, "sha256", lambda q: calls.append(q) or "recomputed")
    assert calls == [] and value == hashlib.sha256(b"one").hexdigest()


def test_changed_file_is_rehashed(tmp_path: Path) -> None:
    p = tmp_path / "f.txt"
    p.write_text("one")
    age(p, 20)
    cache = DigestCache(tmp_path)
    cache.digest(p)
    p.write_text("two")  # same size, new content
    age(p, 10)
    assert cache.digest(p) == hashlib.sha256(b"two").hexdigest()


def test_racy_entry_is_not_trusted(tmp_path: Path) -> None:
    """An entry computed within a clock tick of the file's mtime may hide a same-tick rewrite.

    File systems stamp times with a coarse clock, so a rewrite right after our read can keep
    every stat field; such an entry must be recomputed, and trusted only once it was
    computed safely later than the mtime.
    """
    p = tmp_path / "f.txt"
    p.write_text("one")
    st = p.stat()
    cache = DigestCache(tmp_path)
    cache.digest(p)
    entry = cache._load()["f.txt"]
    entry["values"]["sha256"] = "stale"  # what a same-tick rewrite would leave behind
    entry["checked"] = st.st_mtime_ns + 1_000_000  # computed 1 ms after the write: racy
    assert cache.digest(p) == hashlib.sha256(b"one").hexdigest()
    entry = cache._load()["f.txt"]
    entry["values"]["sha256"] = "trusted"
    entry["checked"] = st.st_mtime_ns + 5_000_000_000  # computed long after the write
    assert cache.digest(p) == "trusted"


def test_one_second_mtimes_need_a_wider_margin(tmp_path: Path) -> None:
    p = tmp_path / "f.txt"
    p.write_text("one")
    whole = (int(time.time()) - 100) * 1_000_000_000
    os.utime(p, ns=(whole, whole))  # as on a file system with one-second stamps
    cache = DigestCache(tmp_path)
    cache.digest(p)
    entry = cache._load()["f.txt"]
    entry["values"]["sha256"] = "stale"
    entry["checked"] = whole + 500_000_000  # 0.5 s later: still within that file system's tick
    assert cache.digest(p) == hashlib.sha256(b"one").hexdigest()


def test_corrupt_cache_is_ignored_and_replaced(tmp_path: Path) -> None:
    cache_file = tmp_path / ".mlopsctl/cache/digests.json"
    cache_file.parent.mkdir(parents=True)
    p = tmp_path / "f.txt"
    p.write_text("x")
    for junk in ["{not json", "[]", json.dumps({"format": 1, "files": {"f.txt": {"stat": "bad"}}})]:
        cache_file.write_text(junk)
        cache = DigestCache(tmp_path)
        assert cache.digest(p) == hashlib.sha256(b"x").hexdigest()
        assert cache.save()
        assert json.loads(cache_file.read_text())["format"] == 1
    assert [q.name for q in cache_file.parent.iterdir()] == ["digests.json"]  # no temp files left


def test_save_failure_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / ".mlopsctl").write_text("a file where the cache dir should be")
    p = tmp_path / "f.txt"
    p.write_text("x")
    cache = DigestCache(tmp_path)
    cache.digest(p)
    assert cache.save() is False


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        DigestCache(tmp_path).digest(tmp_path / "nope")


def test_forget_and_context_memo(tmp_path: Path) -> None:
    from mlopsctl.core.context import Context
    from mlopsctl.specs.model import Project, SpecDoc

    ctx = Context(root=tmp_path, project=Project(tmp_path, SpecDoc("mlops.yaml", {"name": "x"}), {}))
    cache = ctx.digests
    assert ctx.digests is cache
    p = tmp_path / "f.txt"
    p.write_text("x")
    cache.digest(p)
    cache.forget(p)
    ctx.save_memos()
    saved = json.loads((tmp_path / ".mlopsctl/cache/digests.json").read_text())
    assert saved["files"] == {}


def test_several_digests_in_one_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlopsctl.workspace import digests

    p = tmp_path / "model.bin"
    body = os.urandom(3 * (1 << 20) + 7)  # more than one chunk
    p.write_bytes(body)
    age(p)
    opened: list[str] = []
    real_open = os.open

    def counting_open(file: object, *args: object, **kwargs: object) -> object:
        if str(file) == str(p):
            opened.append(str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", counting_open)  # what the digests read a file with
    cache = DigestCache(tmp_path)
    sums = cache.digests(p)
    assert sums == {"md5": hashlib.md5(body).hexdigest(), "sha256": hashlib.sha256(body).hexdigest()}
    assert len(opened) == 1  # both from one read of the file
    assert cache.digest(p, "md5") == sums["md5"] and cache.digests(p) == sums and len(opened) == 1  # cached
    cache.save()
    again = DigestCache(tmp_path)
    cache.forget(p)
    assert again.digests(p, ("sha256",)) == {"sha256": sums["sha256"]} and len(opened) == 1  # kept across runs
    assert digests.hash_file_all(p, ("md5",)) == {"md5": sums["md5"]}
    reads = len(opened)
    assert again.digests(p, st=os.stat(p)) == sums and len(opened) == reads  # the caller's stat: still kept
    p.write_bytes(body[::-1])
    assert again.digests(p, st=os.stat(p))["md5"] == hashlib.md5(body[::-1]).hexdigest()  # a new stat: read again
    with pytest.raises(ValueError):
        cache.digests(p, ("md5", "sha1"))
