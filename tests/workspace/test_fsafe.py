"""fsafe.outside_reason: every way a path can lead out of the repository, in and out of a steady phase."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlopsctl.workspace import steady
from mlopsctl.workspace.fsafe import outside_reason


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "params").mkdir(parents=True)
    (root / "params" / "a.yaml").write_text("a: 1\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "secret").write_text("x\n")
    return root


def test_paths_inside_stay_inside(repo: Path) -> None:
    assert outside_reason(repo, "params/a.yaml") is None
    assert outside_reason(repo, "params/new/deeper/b.yaml") is None  # created inside, lexically
    assert outside_reason(repo, "params/a.yaml/below") is None  # a file's child cannot exist
    assert outside_reason(repo, repo / "params" / "a.yaml") is None
    assert outside_reason(repo, ".") is None


def test_lexical_escapes(repo: Path) -> None:
    assert "leads outside the repository" in (outside_reason(repo, "../elsewhere/secret") or "")
    assert "leads outside the repository" in (outside_reason(repo, "/etc/passwd") or "")


def test_symlinks(repo: Path) -> None:
    outside = repo.parent / "elsewhere"
    os.symlink(outside, repo / "out")
    os.symlink(repo / "params", repo / "alias")
    os.symlink(outside / "secret", repo / "params" / "linked.yaml")
    os.symlink("loop", repo / "loop")
    assert outside_reason(repo, "out/secret") == f"out is a symbolic link to {outside}, outside the repository"
    assert outside_reason(repo, "out/new.yaml") is not None
    assert outside_reason(repo, "alias/a.yaml") is None  # a link that stays inside is followed
    assert "params/linked.yaml is a symbolic link to" in (outside_reason(repo, "params/linked.yaml") or "")
    assert outside_reason(repo, "alias/linked.yaml") is not None  # through an inside link, then out
    assert outside_reason(repo, "loop/x") == "loop is a loop of symbolic links"


def test_a_steady_phase_walks_each_folder_once_and_forgets_after(repo: Path) -> None:
    with steady.phase():
        for i in range(5):
            assert outside_reason(repo, f"params/m{i}.yaml") is None
        assert outside_reason(repo, "params/a.yaml") is None
    # The folder replaced by a link out of the repository after the phase: seen at once.
    (repo / "params" / "a.yaml").unlink()
    (repo / "params").rmdir()
    os.symlink(repo.parent / "elsewhere", repo / "params")
    assert outside_reason(repo, "params/m0.yaml") is not None
    with steady.phase():
        assert outside_reason(repo, "params/m1.yaml") is not None
        assert outside_reason(repo, "params/a.yaml") is not None


def test_a_path_of_many_parts_is_walked_without_recursion(repo: Path) -> None:
    deep = "/".join(["a"] * 1500)  # deeper than Python's recursion limit; a spec may name one
    assert outside_reason(repo, deep) is None
    assert outside_reason(repo, f"params/{deep}") is None
    with steady.phase():
        assert outside_reason(repo, deep) is None
        assert outside_reason(repo, "params/" + "/".join(["b"] * 1500)) is None
