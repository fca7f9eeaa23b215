from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlopsctl.pipeline import facts

DVC = str(Path(sys.executable).parent / "dvc")


def _run(root: Path, *args: str) -> None:
    subprocess.run(args, cwd=root, check=True, capture_output=True)


def test_file_and_dir_digests_match_dvc(tmp_path: Path) -> None:
    _run(tmp_path, "git", "init", "-q")
    _run(tmp_path, DVC, "init", "-q")
    (tmp_path / "one.csv").write_bytes(b"a,b\r\n1,2\r\n")  # CRLF: DVC 3 hashes bytes as they are
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "x.txt").write_text("x")
    (tmp_path / "d" / "sub" / "y.bin").write_bytes(os.urandom(1000))
    _run(tmp_path, DVC, "add", "-q", "one.csv", "d")
    cache = facts.StatCache(tmp_path)
    for name in ("one.csv", "d"):
        out = facts.read_dvcfile(tmp_path, name)
        assert out is not None
        digest = cache.digest(name)
        assert digest is not None and digest.md5 == out["md5"] and digest.size == out["size"]
        assert facts.in_store(facts.cache_dir(tmp_path), out["md5"])
    assert cache.digest("d").nfiles == 2  # type: ignore[union-attr]
    assert cache.digest("missing") is None


def test_stat_cache_survives_runs_and_sees_edits(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("one")
    old = f.stat().st_mtime - 10
    os.utime(f, (old, old))
    c1 = facts.StatCache(tmp_path)
    first = c1.file_md5("f.txt")
    c1.save()
    assert json.loads((tmp_path / ".mlopsctl/cache/dvcfacts.json").read_text())["md5"]["f.txt"][-1] == first.md5  # type: ignore[union-attr]
    f.write_text("two")
    c2 = facts.StatCache(tmp_path)
    assert c2.file_md5("f.txt").md5 == facts.md5_file(f)  # type: ignore[union-attr]


def test_a_trained_model_is_read_once_for_its_md5_and_its_sha256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlopsctl.pipeline.stages import model_file
    from mlopsctl.workspace import digests

    folder = tmp_path / "artifacts" / "m"
    folder.mkdir(parents=True)
    (folder / "model.joblib").write_bytes(os.urandom(5000))
    (folder / "profile.json").write_text("{}")
    old = (folder / "model.joblib").stat().st_mtime - 10
    for f in folder.iterdir():
        os.utime(f, (old, old))
    opened: list[str] = []
    real_open = open

    def counting_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file).endswith("model.joblib"):
            opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    shared = digests.DigestCache(tmp_path)
    cache = facts.StatCache(tmp_path, shared)
    listed = cache.digest("artifacts/m")
    both = shared.digests(tmp_path / model_file("m"))
    assert len(opened) == 1  # the stage's md5 and the registry's digests: one read
    assert both["md5"] == facts.md5_file(folder / "model.joblib") == cache.file_md5(model_file("m")).md5  # type: ignore[union-attr]
    assert both["sha256"] == digests.hash_file(folder / "model.joblib")
    opened.clear()
    plain = facts.StatCache(tmp_path)  # without the shared cache: the same listing, md5 alone
    assert listed is not None and plain.digest("artifacts/m") == listed and len(opened) == 1


def test_remote_config_and_param_changes(tmp_path: Path) -> None:
    _run(tmp_path, "git", "init", "-q")
    _run(tmp_path, DVC, "init", "-q")
    _run(tmp_path, DVC, "remote", "add", "-d", "store", "../elsewhere")
    name, url = facts.default_remote(tmp_path)  # type: ignore[misc]
    assert name == "store"
    assert facts.local_remote_dir(tmp_path, url) == (tmp_path.parent / "elsewhere").resolve()
    lines = facts.param_changes({"estimator": {"params": {"n": 100, "x": 1}}, "m": ["a"]},
                                   {"estimator": {"params": {"n": 200, "y": True}}, "m": ["a"]})
    assert lines == ["estimator.params.n 100 -> 200", "estimator.params.x removed (was 1)",
                     "estimator.params.y added (true)"]
    # Equal values of another type are a change (DVC compares them as YAML text); another order is not.
    assert facts.param_changes({"a": 1}, {"a": 1.0}) == ["a 1 -> 1.0"]
    assert facts.param_changes({"a": True}, {"a": 1}) == ["a true -> 1"]
    assert facts.param_changes({"a": 1, "b": {"c": [1, 2]}}, {"b": {"c": [1, 2]}, "a": 1}) == []


def test_dvc_files_parsed_once_per_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(tmp_path, "git", "init", "-q")
    _run(tmp_path, DVC, "init", "-q")
    data = tmp_path / "one.csv"
    data.write_text("a\n1\n")
    _run(tmp_path, DVC, "add", "-q", "one.csv")
    dvcfile = tmp_path / "one.csv.dvc"
    old = dvcfile.stat().st_mtime - 10
    os.utime(dvcfile, (old, old))  # not "within a timestamp tick": a stat-keyed fact may be kept
    parsed: list[str] = []
    real = facts._yaml_load
    monkeypatch.setattr(facts, "_yaml_load", lambda text: parsed.append(text) or real(text))
    cache = facts.StatCache(tmp_path)
    first = facts.read_dvcfile(tmp_path, "one.csv", cache)
    assert first is not None and first["md5"] == facts.md5_file(data)
    cache.save()
    again = facts.StatCache(tmp_path)  # the next run
    assert facts.read_dvcfile(tmp_path, "one.csv", again) == first
    assert len(parsed) == 1
    data.write_text("a\n2\n")
    _run(tmp_path, DVC, "add", "-q", "one.csv")  # a new content: read again
    assert facts.read_dvcfile(tmp_path, "one.csv", again)["md5"] == facts.md5_file(data)  # type: ignore[index]
    assert len(parsed) == 2
    for text in ("- not\n- a mapping\n", "outs: nothing\n", "\xff"):  # never a traceback
        dvcfile.write_text(text, encoding="latin-1")
        assert facts.read_dvcfile(tmp_path, "one.csv", again) is None
    assert facts.read_dvcfile(tmp_path, "missing.csv", again) is None


def _store_with(tmp_path: Path, *blobs: bytes) -> tuple[Path, list[str]]:
    import hashlib

    store, names = tmp_path / "store", []
    for blob in blobs:
        md5 = hashlib.md5(blob).hexdigest()
        obj = facts.object_path(store, md5)
        obj.parent.mkdir(parents=True, exist_ok=True)
        obj.write_bytes(blob)
        names.append(md5)
    return store, names


def test_in_store_during_a_plan_lists_folders_and_records_no_object(tmp_path: Path) -> None:
    from mlopsctl.workspace import observe, steady

    store, (here, there) = _store_with(tmp_path, b"one", b"two")
    absent = "0" * 32 if not here.startswith("00") else "f" * 32
    with observe.recording() as rec, steady.phase():
        assert facts.in_store(store, here) and facts.in_store(store, there)
        assert not facts.in_store(store, absent)
        assert not facts.in_store(tmp_path / "no-store", here)
    folders = {str(facts.object_path(store, m).parent) for m in (here, there, absent)}
    assert folders <= rec.lists  # listed once each, whole (an object added or removed moves the folder)
    assert not any(str(facts.object_path(store, m)) in rec.stats for m in (here, there, absent))
    # Outside a plan every call looks again: an object apply adds is seen at once.
    assert not facts.in_store(store, absent)
    obj = facts.object_path(store, absent)
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(b"?")
    assert facts.in_store(store, absent)
    # And the next plan lists the folder again.
    obj.unlink()
    with steady.phase():
        assert not facts.in_store(store, absent)
        obj.write_bytes(b"?")
        assert not facts.in_store(store, absent)  # within one plan, the first listing holds
    with steady.phase():
        assert facts.in_store(store, absent)


def test_a_directory_object_is_in_store_when_every_listed_file_is(tmp_path: Path) -> None:
    import hashlib

    from mlopsctl.workspace import steady

    store, (a, b) = _store_with(tmp_path, b"a", b"b")
    blob = json.dumps([{"md5": a, "relpath": "a"}, {"md5": b, "relpath": "b"}]).encode()
    dir_md5 = hashlib.md5(blob).hexdigest() + ".dir"
    obj = facts.object_path(store, dir_md5)
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(blob)
    for phase in (False, True):
        with steady.phase() if phase else contextlib.nullcontext():
            assert facts.in_store(store, dir_md5)
    facts.object_path(store, b).unlink()
    for phase in (False, True):
        with steady.phase() if phase else contextlib.nullcontext():
            assert not facts.in_store(store, dir_md5)
