from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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
    # What a directory lists is taken from the workspace listing whose digest names the .dir
    # object, so it equals the object's; a listed file missing from the store is still seen.
    md5 = cache.digest("d").md5  # type: ignore[union-attr]
    store = facts.cache_dir(tmp_path)
    listed = json.loads(facts.object_path(store, md5).read_text())
    assert facts._LISTINGS[md5] == [e["md5"] for e in listed]
    facts.object_path(store, listed[0]["md5"]).unlink()
    assert not facts.in_store(store, md5)


def test_stat_cache_survives_runs_and_sees_edits(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("one")
    old = f.stat().st_mtime - 10
    os.utime(f, (old, old))
    c1 = facts.StatCache(tmp_path)
    first = c1.file_md5("f.txt")
    c1.save()
    kept = facts.StatCache(tmp_path)  # the next run: the md5 is taken, the file not read
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(facts, "hash_file", lambda *a: pytest.fail("hashed again"))
        assert kept.file_md5("f.txt") == first
    f.write_text("two")
    c2 = facts.StatCache(tmp_path)
    assert c2.file_md5("f.txt").md5 == facts.md5_file(f)  # type: ignore[union-attr]


@pytest.mark.parametrize("edit", [
    lambda blob: blob["md5"].update({"a.txt": {"a": 1}}), lambda blob: blob["md5"].update({"a.txt": [1, 2]}),
    lambda blob: blob["md5"].update({"a.txt": [*blob["md5"]["a.txt"][:-1], 5]}),
    lambda blob: blob["lock"].update({"stages": [1]}), lambda blob: blob["dvcfiles"].update({"x.csv.dvc": 7}),
    lambda blob: blob.update({"md5": [], "lock": "x"}),
])
def test_an_edited_stat_cache_entry_is_as_if_absent(tmp_path: Path, edit: Any) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "dvc.lock").write_text("schema: '2.0'\nstages:\n  one:\n    cmd: echo 1\n")
    (tmp_path / "x.csv.dvc").write_text("outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n  path: x.csv\n")
    old = time.time() - 10
    for name in ("a.txt", "dvc.lock", "x.csv.dvc"):
        os.utime(tmp_path / name, (old, old))
    cache = facts.StatCache(tmp_path)
    cache.file_md5("a.txt")
    facts.load_lock(tmp_path, cache)
    facts.read_dvcfile(tmp_path, "x.csv", cache)
    cache.save()
    path = tmp_path / ".mlopsctl/cache" / facts.CACHE_FILE
    blob = json.loads(path.read_text())
    edit(blob)
    path.write_text(json.dumps(blob))
    again = facts.StatCache(tmp_path)  # never a traceback: what the files say
    assert again.file_md5("a.txt").md5 == facts.md5_file(tmp_path / "a.txt")  # type: ignore[union-attr]
    assert facts.load_lock(tmp_path, again) == {"one": {"cmd": "echo 1"}}
    assert facts.read_dvcfile(tmp_path, "x.csv", again) == {"md5": "0cc175b9c0f1b6a831c399e269772661", "path": "x.csv"}


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
    real_open, real_os_open = open, os.open

    def counting(real):  # type: ignore[no-untyped-def]
        def counting_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
            if str(file).endswith("model.joblib"):
                opened.append(str(file))
            return real(file, *args, **kwargs)

        return counting_open

    monkeypatch.setattr("builtins.open", counting(real_open))
    monkeypatch.setattr(os, "open", counting(real_os_open))
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
    # DVC writes params sorted, a spec keeps its order: equal in any order, never across types
    assert facts.param_changes({"a": {"x": 1, "y": [True]}}, {"a": {"y": [True], "x": 1}}) == []
    assert facts.param_changes({"b": {"x": 1}, "a": 2}, {"a": 2, "b": {"x": True}}) == ["b.x 1 -> true"]
    assert facts.param_changes({"a": {"x": 1}}, {"a": {"x": 1, "y": None}}) == ["a.y added (null)"]


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
