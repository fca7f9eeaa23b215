"""Tag grammar and reading/writing tags in a real Git repository, checked against GTO itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlopsctl.errors import MlopsError
from mlopsctl.registry import tags as T
from tests.builders import git, make_repo

NAMES = [
    "iris@v1.0.0",
    "iris@v12.0.0",
    "iris@v1.2.3-rc.1",
    "iris@v1.0.0!",
    "iris#production#3",
    "iris#production!#4",
    "iris#staging",
    "my-model_2@v3.0.0",
    "iris@deprecated",
    "iris@deprecated#5",
    "iris@1.0.0",  # no "v": not a version tag
    "iris#",
    "release-1.0",
    "v1.0.0",
    "-iris@v1.0.0",
]


@pytest.mark.parametrize("name", NAMES)
def test_parse_name_agrees_with_gto(name: str) -> None:
    from gto.tag import parse_name as gto_parse

    theirs = gto_parse(name, raise_on_fail=False)
    ours = T.parse_name(name)
    if not theirs:
        assert ours is None
        return
    assert ours is not None
    assert ours["model"] == theirs["name"]
    assert ours["action"] == theirs["action"].value
    assert ours.get("version") == theirs.get("version")
    assert ours.get("stage") == theirs.get("stage")
    assert ours["counter"] == theirs.get("counter")


def test_read_tags_one_pass(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    head = git(root, "rev-parse", "HEAD")
    git(root, "tag", "plain-lightweight")
    git(root, "tag", "-a", "iris@v1.0.0", "-m", '{"version": 1}')
    git(root, "tag", "-a", "notes", "-m", "first line\n\nmore # text")
    records = {r.name: r for r in T.read_tags(root)}
    assert set(records) == {"plain-lightweight", "iris@v1.0.0", "notes"}
    assert records["plain-lightweight"].annotated is False
    assert records["plain-lightweight"].commit == head
    v1 = records["iris@v1.0.0"]
    assert v1.annotated and v1.commit == head and v1.time > 0
    assert T.parse_message(v1.message) == {"version": 1}
    assert "more # text" in records["notes"].message
    # GTO ignores lightweight tags, and so do the registry events.
    assert [e.tag.name for e in T.events(list(records.values()))] == ["iris@v1.0.0"]


def test_write_tag_is_annotated_json_and_strictly_later(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    head = git(root, "rev-parse", "HEAD")
    first = T.write_tag(root, "iris@v1.0.0", head, {"version": 1, "note": "a # b"})
    second = T.write_tag(root, "iris#staging#1", head, {"version": 1}, not_before=first.time)
    assert second.time > first.time  # same second otherwise: GTO could not order them
    records = {r.name: r for r in T.read_tags(root)}
    assert records["iris@v1.0.0"].annotated
    assert json.loads(records["iris@v1.0.0"].message) == {"note": "a # b", "version": 1}
    assert records["iris#staging#1"].time == second.time
    with pytest.raises(MlopsError, match="already exists"):
        T.write_tag(root, "iris@v1.0.0", head, {"version": 1})
    with pytest.raises(MlopsError, match="not a valid registry tag"):
        T.write_tag(root, "iris@1", head, {})


def test_write_tag_without_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path)
    for key in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "EMAIL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    head = git(root, "rev-parse", "HEAD")
    T.write_tag(root, "iris@v1.0.0", head, {"version": 1})
    assert "mlopsctl" in git(root, "for-each-ref", "--format=%(taggername)", "refs/tags/iris@v1.0.0")


def test_head_commit_in_empty_repository(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    git(root, "init", "-q")
    with pytest.raises(MlopsError, match="no commit yet"):
        T.head_commit(root)
