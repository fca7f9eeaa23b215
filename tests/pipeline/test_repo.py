"""The spec's DVC remote against the configured one (pipeline/repo.py), on a real DVC repository."""

from __future__ import annotations

from pathlib import Path

from mlopsctl.pipeline import facts
from mlopsctl.pipeline.repo import same_url
from tests.pipeline.test_facts import DVC, _run


def test_a_local_remote_reached_through_a_link_is_the_same_remote(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "shared-store").mkdir()
    (tmp_path / "store").symlink_to(tmp_path / "shared-store")  # e.g. a mounted team folder
    _run(root, "git", "init", "-q")
    _run(root, DVC, "init", "-q")
    _run(root, DVC, "remote", "add", "-d", "local", "../store")  # as apply adds the spec's url, from the root
    name, url = facts.default_remote(root)  # type: ignore[misc]
    assert name == "local"
    assert facts.local_remote_dir(root, url) == (tmp_path / "shared-store").resolve()
    assert same_url(root, "../store", url)  # the spec's url, relative to the repository
    assert same_url(root, str(tmp_path / "store"), url)
    assert not same_url(root, "../other-store", url)
