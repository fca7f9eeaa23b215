"""workspace/observe.py: what a computation read, and whether it still holds."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from mlopsctl.workspace import git as gitmod
from mlopsctl.workspace import observe
from mlopsctl.workspace.digests import stat_key
from tests.builders import git


def record(fn, ignore: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    started = time.time_ns()
    with observe.recording(ignore) as rec:
        fn()
    return rec, started


def old(*paths: Path) -> None:
    """Wait past one timestamp tick after writing ``paths``, so a record of them can be kept."""
    del paths
    time.sleep(0.06)


def test_reads_lists_and_stats_are_recorded_and_writes_are_not(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "d").mkdir()
    (tmp_path / "ignored").mkdir()

    def look() -> None:
        (tmp_path / "a.txt").read_text()
        os.listdir(tmp_path / "d")
        (tmp_path / "absent").exists()
        (tmp_path / "a.txt").is_symlink()
        (tmp_path / "written.txt").write_text("w")
        (tmp_path / "ignored" / "x").exists()

    rec, _ = record(look, ignore=(str(tmp_path / "ignored"),))
    assert str(tmp_path / "a.txt") in rec.stats and str(tmp_path / "d") in rec.lists
    assert str(tmp_path / "absent") in rec.stats and str(tmp_path / "a.txt") in rec.lstats
    assert str(tmp_path / "written.txt") not in rec.stats
    assert not any(p.startswith(str(tmp_path / "ignored")) for p in rec.stats)
    assert rec.tainted is None
    assert os.stat is observe._real_stat  # the wrapper is gone once the block ends


def test_a_subprocess_or_socket_outside_a_probe_taints(tmp_path: Path) -> None:
    rec, started = record(lambda: subprocess.run(["true"], check=True))
    assert rec.tainted and "subprocess.Popen" in rec.tainted
    assert isinstance(observe.seal(rec, started), str)
    import socket

    def connect() -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s, pytest.raises(OSError):
            s.connect(str(tmp_path / "no.sock"))

    rec, _ = record(connect)
    assert rec.tainted and "socket.connect" in rec.tainted


def test_a_probe_is_asked_again_and_compared(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "f").write_text("x")
    git(tmp_path, "add", "f")
    git(tmp_path, "commit", "-q", "-m", "one")
    rec, started = record(lambda: gitmod.read(tmp_path, "for-each-ref", "--format=%(refname)", "refs/tags"))
    assert rec.tainted is None and len(rec.probes) == 1
    sealed = observe.seal(rec, started)
    assert isinstance(sealed, dict) and observe.check(sealed) is None
    git(tmp_path, "tag", "v1")
    assert "answers differently" in (observe.check(sealed) or "")


def test_a_git_answer_just_checked_is_given_once_to_the_next_recording(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "f").write_text("x")
    git(tmp_path, "add", "f")
    git(tmp_path, "commit", "-q", "-m", "one")
    ask = ("status", "--porcelain", "-z", "--untracked-files=all")
    rec, started = record(lambda: gitmod.read(tmp_path, *ask))
    sealed = observe.seal(rec, started)
    assert isinstance(sealed, dict) and observe.check(sealed) is None  # asks git again: the same
    spawned: list[object] = []
    real = gitmod.probe_read
    gitmod.probe_read = lambda *a: spawned.append(a) or real(*a)  # type: ignore[assignment]
    try:
        # The computation that follows the check takes its answer: git is not asked a third time.
        rec2, _ = record(lambda: (gitmod.read(tmp_path, *ask), gitmod.read(tmp_path, *ask)))
        assert len(spawned) == 1  # the second read of the same run asks again
        assert [p[2] for p in rec2.probes] == [p[2] for p in sealed["probes"]] * 2
        # Only to the recording right after the check: once one ended, git is asked again.
        assert observe.check(sealed) is None and len(spawned) == 2
        (tmp_path / "g").write_text("new")
        with observe.recording():
            pass
        rec3, _ = record(lambda: gitmod.read(tmp_path, *ask))
        assert len(spawned) == 3 and rec3.probes[0][2] != sealed["probes"][0][2]
    finally:
        gitmod.probe_read = real  # type: ignore[assignment]


def test_every_kind_of_move_is_seen(tmp_path: Path) -> None:
    f, d, gone, link = tmp_path / "f.txt", tmp_path / "d", tmp_path / "later.txt", tmp_path / "link"
    f.write_text("12345")
    d.mkdir()
    link.symlink_to(f)
    old(f, d, link)

    def look() -> None:
        f.read_text()
        os.listdir(d)
        gone.exists()
        os.path.realpath(link)

    rec, started = record(look)
    sealed = observe.seal(rec, started)
    assert isinstance(sealed, dict) and observe.check(sealed) is None

    f.write_text("12346")  # same size
    assert observe.check(sealed) == f"{f} changed"
    f.write_text("12345")
    assert observe.check(sealed) == f"{f} changed"  # same bytes again, but written: recomputed, never guessed

    old(f)
    rec, started = record(look)
    sealed = observe.seal(rec, started)
    assert isinstance(sealed, dict)
    (d / "new").write_text("n")
    assert observe.check(sealed) == f"{d} changed"  # listed: what is in it matters
    (d / "new").unlink()
    gone.write_text("now here")
    assert f"{gone} changed" in (observe.check(sealed) or "") or f"{d} changed" in (observe.check(sealed) or "")
    gone.unlink()
    other = tmp_path / "other.txt"
    other.write_text("12345")
    link.unlink()
    link.symlink_to(other)  # the link now points elsewhere
    assert observe.check(sealed) is not None


def test_a_file_changed_while_recording_is_not_kept(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("1")
    old(f)

    def look_and_change() -> None:
        f.read_text()
        f.write_text("2")

    rec, started = record(look_and_change)
    why = observe.seal(rec, started)
    assert isinstance(why, str) and "within a timestamp tick" in why


def test_a_record_names_only_probes_of_the_fixed_table(tmp_path: Path) -> None:
    planted = {"stat": {}, "lstat": {}, "list": {}, "probes": [["shell", ["touch", str(tmp_path / "x")], "0"]]}
    assert "answers differently" in (observe.check(planted) or "")
    writes = {"stat": {}, "lstat": {}, "list": {}, "probes": [["git", [str(tmp_path), "log", f"--output={tmp_path / 'y'}"], "0"]]}
    assert "answers differently" in (observe.check(writes) or "")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    assert observe.check({"stat": "not a table"}) == "the record is not in the expected shape"


@pytest.mark.parametrize("args", [["tag", "v9"], ["log", "--output=/tmp/never"], ["status", "--exec=rm"],
                                  ["for-each-ref", "--shell-exec"], ["ls-files", "--output", "--", "x"]])
def test_git_probes_are_reads_only(tmp_path: Path, args: list[str]) -> None:
    with pytest.raises(ValueError, match="is not a read a plan asks"):
        gitmod.probe_read(str(tmp_path), *args)


def test_a_directory_only_resolved_through_keeps_its_identity(tmp_path: Path) -> None:
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "f").write_text("x")
    old()
    rec, started = record(lambda: (os.path.realpath(d / "sub" / "f"), d.is_dir()))
    sealed = observe.seal(rec, started)
    assert isinstance(sealed, dict)
    (d / "unrelated").write_text("y")  # d's times move; nothing the block looked at did
    assert observe.check(sealed) is None
    (d / "sub" / "f").unlink()
    (d / "sub").rmdir()
    (d / "sub").write_text("now a file")
    assert observe.check(sealed) is not None


def test_a_file_written_just_before_the_computation_is_not_kept(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("1")  # within one timestamp tick of the start: an edit could hide behind its stat
    rec, started = record(f.read_text)
    why = observe.seal(rec, started)
    assert isinstance(why, str) and "within a timestamp tick" in why


def test_the_tags_are_recorded_as_the_files_holding_them(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "f").write_text("x")
    git(tmp_path, "add", "f")
    git(tmp_path, "commit", "-q", "-m", "one")
    git(tmp_path, "tag", "-a", "v1", "-m", "one")
    args = ("for-each-ref", "--format=%(refname) %(objectname) %(*objectname)", "refs/tags")
    (tmp_path / ".mlopsctl" / "cache").mkdir(parents=True)  # where the answer is kept, as after a first plan

    def sealed():  # type: ignore[no-untyped-def]
        old()
        # Recorded as a plan records (its own caches are left out).
        rec, started = record(lambda: gitmod.read_tags(tmp_path, *args), (str(tmp_path / ".mlopsctl" / "cache"),))
        assert rec.tainted is None and rec.probes == []  # no git asked again: the files say it
        out = observe.seal(rec, started)
        assert isinstance(out, dict) and observe.check(out) is None
        return out

    for move in (lambda: git(tmp_path, "tag", "-a", "v2", "-m", "two"),
                 lambda: git(tmp_path, "tag", "-d", "v2"),
                 lambda: git(tmp_path, "pack-refs", "--all"),
                 lambda: git(tmp_path, "tag", "-f", "-a", "v1", "-m", "moved"),
                 lambda: git(tmp_path, "replace", "-f", git(tmp_path, "rev-parse", "v1"),
                             git(tmp_path, "rev-parse", "HEAD"))):
        before = sealed()
        move()
        assert observe.check(before) is not None


def test_a_record_keeps_each_signature_as_text(tmp_path: Path) -> None:
    f, d, loop = tmp_path / "f.txt", tmp_path / "d", tmp_path / "loop"
    f.write_text("12345")
    d.mkdir()
    loop.symlink_to(loop)
    def whole_stat(p: Path) -> str:
        st = p.stat()
        return ",".join(map(str, [*stat_key(st), st.st_mode]))

    for path, whole, expected in [(f, False, whole_stat(f)), (d, True, whole_stat(d)),
                                  (tmp_path / "gone", False, None)]:
        assert observe.signature(str(path), whole=whole) == expected, path
    assert observe.signature(str(loop)) == f"-{errno.ELOOP}"
    assert observe.signature(str(d)) == f"{d.stat().st_mode},{d.stat().st_ino}"  # identity alone



def test_a_status_may_move_in_the_lines_of_paths_allowed_to_move(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    for name in ("spec.yaml", "other.txt"):
        (tmp_path / name).write_text("x")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "one")
    ask = gitmod.STATUS
    rec, started = record(lambda: (gitmod.read(tmp_path, *ask), gitmod.read(tmp_path, "symbolic-ref", "-q", "HEAD")))
    sealed = observe.seal(rec, started)
    assert isinstance(sealed, dict)
    status, head = sealed["probes"]
    assert len(status) == 4 and len(head) == 3  # only an answer that can be told apart is kept whole
    spec = str(tmp_path / "spec.yaml")
    (tmp_path / "spec.yaml").write_text("edited")
    moved, why = observe.moved(sealed, lambda table, p: p == spec)
    assert why is None and moved == [("probe", observe.probe_key("git", [str(tmp_path), *ask]))]
    assert "answers differently" in (observe.check(sealed) or "")  # nothing allowed: a move
    (tmp_path / "other.txt").write_text("edited too")
    moved, why = observe.moved(sealed, lambda table, p: p == spec)
    assert moved == [] and "answers differently" in (why or "")


def test_what_a_child_noted_is_handed_back_as_read_here(tmp_path: Path) -> None:
    """hand_over (in a read worker) then take_over (in the plan): the record the plan seals is the one
    it would have sealed had it read the same paths itself."""
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "d").mkdir()
    old(tmp_path / "a.txt", tmp_path / "d")

    def reads() -> None:
        (tmp_path / "a.txt").read_text()
        os.lstat(tmp_path / "d")
        os.listdir(tmp_path / "d")
        (tmp_path / "absent").exists()

    itself = observe.seal(*record(reads))
    started = time.time_ns()
    with observe.recording() as rec:
        reads()
        part = observe.hand_over()
        assert not rec.stats and not rec.lstats and not rec.lists  # handed over, forgotten here
        observe.take_over(json.loads(json.dumps(part)))  # through a channel's JSON
    sealed = observe.seal(rec, started)
    assert sealed == itself
    assert observe.check(sealed) is None
    (tmp_path / "absent").write_text("now here")
    assert observe.check(sealed) == f"{tmp_path / 'absent'} changed"


def test_a_part_in_another_shape_taints_the_record() -> None:
    with observe.recording() as rec:
        observe.take_over({"stat": {"/x": [1, 2]}, "lstat": {}, "list": [], "probes": [], "tainted": None})
    assert rec.tainted is not None and "unexpected shape" in rec.tainted
    with observe.recording() as rec:
        observe.take_over({"stat": {}, "lstat": {}, "list": [], "probes": [], "tainted": "subprocess.Popen x"})
    assert rec.tainted == "subprocess.Popen x"
    assert observe.hand_over() is None  # nothing records: nothing to hand over
