"""The batch tag writer: the same tag objects as ``git tag -a``, one atomic ref each, clear failures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlopsctl.errors import MlopsError
from mlopsctl.registry import tags as T
from mlopsctl.registry.tagwriter import TagWriter, signs_tags
from tests.builders import git, make_repo


def _cat(root: Path, name: str) -> bytes:
    return subprocess.run(["git", "cat-file", "tag", name], cwd=root, capture_output=True, check=True).stdout


def test_objects_equal_what_git_tag_writes(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    head = git(root, "rev-parse", "HEAD")
    env = T.tagger_env(root)
    by_git = T.write_tag(root, "iris@v1.0.0", head, {"version": 1, "note": "a # b", "é": "ü"}, env=env)
    writer = TagWriter(root, env)
    try:
        # The very object git tag wrote, rebuilt from the same name, target, message and date.
        assert writer.tag_object("iris@v1.0.0", head, by_git.message, by_git.time) == _cat(root, "iris@v1.0.0")
        by_writer = T.write_tag(root, "iris#staging#2", head, {"by": "mlopsctl", "version": 1},
                                not_before=by_git.time, writer=writer)
        assert git(root, "cat-file", "-t", "iris#staging#2") == "tag"
        assert _cat(root, "iris#staging#2") == writer.tag_object("iris#staging#2", head, by_writer.message,
                                                                 by_writer.time)
    finally:
        writer.close()
    assert {r.name: r for r in T.read_tags(root)}["iris#staging#2"] == by_writer  # read back as written
    assert subprocess.run(["git", "fsck", "--strict"], cwd=root, capture_output=True, check=False).returncode == 0


def test_an_existing_tag_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    head = git(root, "rev-parse", "HEAD")
    first = T.write_tag(root, "iris@v1.0.0", head, {"version": 1})
    writer = TagWriter(root, T.tagger_env(root))
    with pytest.raises(MlopsError, match="iris@v1.0.0.*already exists"):
        T.write_tag(root, "iris@v1.0.0", head, {"version": 2}, writer=writer)
    assert writer.broken
    with pytest.raises(MlopsError, match="stopped"):
        T.write_tag(root, "iris@v2.0.0", head, {"version": 2}, writer=writer)
    assert [r for r in T.read_tags(root)] == [first]


def test_where_git_signs_tags_no_writer_is_used(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    env = T.tagger_env(root)
    assert not signs_tags(root, env)
    git(root, "config", "tag.gpgSign", "true")
    assert signs_tags(root, env)
