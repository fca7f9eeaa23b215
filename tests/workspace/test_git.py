"""Git facts read straight from .git agree with git itself, in every layout we meet."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlopsctl.workspace import git as gitfacts
from mlopsctl.workspace.git import committed_blob_equals, head_commit
from tests.builders import git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.txt").write_text("one\n")
    git(root, "add", "a.txt")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_no_repository_and_no_commit(tmp_path: Path) -> None:
    assert head_commit(tmp_path) is None
    git(tmp_path, "init", "-q", "-b", "main")
    assert head_commit(tmp_path) is None  # unborn branch
    assert committed_blob_equals(tmp_path, "a.txt", b"") is False


def test_branch_detached_and_packed(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    assert head_commit(repo) == head
    (repo / "a.txt").write_text("two\n")
    git(repo, "commit", "-q", "-am", "second")
    second = git(repo, "rev-parse", "HEAD")
    assert head_commit(repo) == second
    git(repo, "checkout", "-q", "--detach", head)
    assert head_commit(repo) == head
    git(repo, "checkout", "-q", "main")
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git/refs/heads/main").exists()
    assert head_commit(repo) == second


def test_subdirectory_and_worktree(repo: Path, tmp_path: Path) -> None:
    (repo / "sub").mkdir()
    assert head_commit(repo / "sub") == git(repo, "rev-parse", "HEAD")
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(wt))
    (wt / "a.txt").write_text("feature\n")
    git(wt, "commit", "-q", "-am", "feature")
    assert (wt / ".git").is_file()
    assert head_commit(wt) == git(wt, "rev-parse", "HEAD")
    assert head_commit(wt) != head_commit(repo)
    assert committed_blob_equals(wt, "a.txt", b"feature\n")


def test_committed_blob_equals(repo: Path) -> None:
    assert committed_blob_equals(repo, "a.txt", b"one\n")
    assert not committed_blob_equals(repo, "a.txt", b"one edited\n")
    assert not committed_blob_equals(repo, "missing.txt", b"one\n")
    (repo / "sub").mkdir()
    (repo / "sub/b.txt").write_text("b\n")
    git(repo, "add", "sub/b.txt")
    git(repo, "commit", "-q", "-m", "b")
    # Paths are relative to the root asked about, also when it is a subdirectory of the repository.
    assert committed_blob_equals(repo / "sub", "b.txt", b"b\n")
    assert committed_blob_equals(repo, "sub/b.txt", b"b\n")


def test_clean_filters_are_applied(repo: Path) -> None:
    (repo / ".gitattributes").write_text("*.txt text eol=crlf\n")
    (repo / "c.txt").write_bytes(b"x\r\ny\r\n")
    git(repo, "add", ".gitattributes", "c.txt")
    git(repo, "commit", "-q", "-m", "crlf")
    # Stored with LF in Git, checked out with CRLF: still "nothing is lost".
    assert committed_blob_equals(repo, "c.txt", b"x\r\ny\r\n")


def test_tracked(repo: Path) -> None:
    assert gitfacts.is_tracked(repo, "a.txt")
    assert not gitfacts.is_tracked(repo, "b.txt")


def test_sha256_repository(tmp_path: Path) -> None:
    root = tmp_path / "s"
    root.mkdir()
    try:
        git(root, "init", "-q", "--object-format=sha256", "-b", "main")
    except subprocess.CalledProcessError:
        pytest.skip("this git cannot create sha256 repositories")
    (root / "a.txt").write_text("one\n")
    git(root, "add", "a.txt")
    git(root, "commit", "-q", "-m", "first")
    assert head_commit(root) == git(root, "rev-parse", "HEAD")
    assert len(head_commit(root) or "") == 64
    assert committed_blob_equals(root, "a.txt", b"one\n")


def _for_each_ref(root: Path) -> tuple[int, str, str]:
    return gitfacts.read_tags(root, "for-each-ref", "--format=%(refname) %(objectname) %(*objectname)", "refs/tags")


def test_the_tags_answer_is_kept_while_their_files_stat_the_same(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    asked: list[tuple[str, ...]] = []
    real = gitfacts.probe_read

    def counting(root: str, *args: str) -> list:  # type: ignore[type-arg]
        asked.append(args)
        return real(root, *args)

    monkeypatch.setattr(gitfacts, "probe_read", counting)
    git(repo, "tag", "-a", "v1", "-m", "one")
    moves = [lambda: git(repo, "tag", "-a", "v2", "-m", "two"),
             lambda: git(repo, "tag", "-d", "v2"),
             lambda: git(repo, "pack-refs", "--all"),
             lambda: git(repo, "tag", "-f", "-a", "v1", "-m", "moved"),
             lambda: git(repo, "replace", "-f", git(repo, "rev-parse", "v1"), git(repo, "rev-parse", "HEAD"))]
    for move in [lambda: None, *moves]:
        move()
        time.sleep(0.06)  # past one timestamp tick: an answer is kept only then
        truth = git(repo, "for-each-ref", "--format=%(refname) %(objectname) %(*objectname)", "refs/tags")
        asked.clear()
        assert _for_each_ref(repo)[1].strip() == truth  # moved: git is asked again
        assert len(asked) == 1
        assert _for_each_ref(repo)[1].strip() == truth  # then kept
        assert len(asked) == 1
    monkeypatch.setenv("GIT_CONFIG_COUNT", "0")  # another environment for git: asked again
    _for_each_ref(repo)
    assert len(asked) == 2
    (repo / ".mlopsctl" / "cache" / "tags.json").write_text('{"question": [1')  # damaged: asked again
    assert _for_each_ref(repo)[1].strip() == truth and len(asked) == 3


def test_tags_written_within_a_tick_are_not_kept(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "tag", "-a", "v1", "-m", "one")
    _for_each_ref(repo)  # the tag's file was written just now: its next write may not show in its stat
    assert not (repo / ".mlopsctl" / "cache" / "tags.json").exists()


def test_status_answers_are_told_apart_by_the_paths_whose_lines_differ(repo: Path) -> None:
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-q", "-m", "b")
    ask = [str(repo), *gitfacts.STATUS]
    kept = gitfacts.probe_read(*ask)
    assert gitfacts.probe_paths(ask, kept, kept) == set()
    (repo / "a.txt").write_text("edited\n")
    git(repo, "mv", "b.txt", "c.txt")
    (repo / "new.txt").write_text("untracked\n")
    (repo / "odd name\nwith a newline.txt").write_text("untracked\n")
    now = gitfacts.probe_read(*ask)
    assert sorted(gitfacts.status_entries(now[1])) == [
        (" M", "a.txt", None), ("??", "new.txt", None), ("??", "odd name\nwith a newline.txt", None),
        ("R ", "c.txt", "b.txt")]
    (repo / "odd name\nwith a newline.txt").unlink()
    now = gitfacts.probe_read(*ask)
    assert gitfacts.probe_paths(ask, kept, now) == {str(repo / p) for p in ("a.txt", "b.txt", "c.txt", "new.txt")}
    git(repo, "add", "a.txt")  # staged: the same path, another line
    assert gitfacts.probe_paths(ask, now, gitfacts.probe_read(*ask)) == {str(repo / "a.txt")}
    # Another question, or answers that differ beyond their lines: nothing to tell.
    assert gitfacts.probe_paths([str(repo), "symbolic-ref", "-q", "HEAD"], kept, kept) is None
    assert gitfacts.probe_paths(ask, kept, [128, "", "fatal: not a git repository"]) is None
