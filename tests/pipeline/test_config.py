"""DVC's configuration read without DVC agrees with DVC itself: system, global, repo and local
levels, paths relative to their file, and a team's shared cache (``dvc cache dir --global``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlopsctl.pipeline import config as dvcconfig
from mlopsctl.pipeline import facts as dvcfacts
from tests.builders import git, make_repo, run_mlopsctl
from tests.registry.registry_builders import dvc


@pytest.fixture
def levels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """System and global config folders of this test only (DVC reads the same variables)."""
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(tmp_path / "system"))
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(tmp_path / "global"))
    return tmp_path


def dvc_view(root: Path) -> tuple[str, str | None, str | None]:
    """(cache dir, default remote, its url) as DVC resolves them."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        conf = repo.config
        name = conf["core"].get("remote")
        url = conf["remote"][name]["url"] if name else None
        return str(repo.cache.local.path).removesuffix("/files/md5"), name, url


def ours(root: Path) -> tuple[str, str | None, str | None]:
    remote = dvcconfig.default_remote(root)
    return str(dvcconfig.cache_dir(root)), remote[0] if remote else None, remote[1] if remote else None


def test_every_level_resolves_as_dvc_does(levels: Path) -> None:
    root = make_repo(levels)
    dvc(root, "init", "-q")
    assert ours(root) == dvc_view(root)
    dvc(root, "remote", "add", "--system", "-d", "corp", "s3://corp-bucket/dvc")
    assert ours(root) == dvc_view(root) == (str(root / ".dvc" / "cache"), "corp", "s3://corp-bucket/dvc")
    dvc(root, "cache", "dir", "--global", "../team-cache")  # relative to the global config's folder
    dvc(root, "remote", "add", "--global", "team", "../team-remote")
    dvc(root, "remote", "default", "--global", "team")
    assert ours(root) == dvc_view(root)
    assert ours(root)[0] == str((levels / "team-cache").resolve())
    dvc(root, "remote", "add", "-d", "repo", "s3://repo-bucket/x")  # the repository beats global and system
    assert ours(root) == dvc_view(root)
    dvc(root, "remote", "modify", "--local", "repo", "url", "s3://private/x")  # and the local file beats it
    dvc(root, "cache", "dir", "--local", str(levels / "mine"))
    assert ours(root) == dvc_view(root) == (str(levels / "mine"), "repo", "s3://private/x")


@pytest.mark.slow
def test_shared_cache_plan_agrees_with_dvc_status(levels: Path) -> None:
    shared = levels / "shared-cache"
    root = make_repo(levels)
    dvc(root, "cache", "dir", "--global", str(shared))  # a team's shared cache, set once per machine
    out = run_mlopsctl(["apply", "--auto-approve"], root)
    assert out.returncode == 0, out.stderr
    assert "Data and pipelines are up to date" in dvc(root, "status")
    assert "No changes" in run_mlopsctl(["plan"], root).stdout
    assert not (root / ".dvc" / "cache" / "files").exists()  # everything went to the shared cache
    lock = dvcfacts.load_lock(root)["train_iris"]
    md5 = next(o["md5"] for o in lock["outs"] if o["path"] == "artifacts/iris")
    assert dvcfacts.in_store(shared, md5)

    # Collected from the shared cache: both DVC and the plan see the stage's output missing there.
    shutil.rmtree(shared / "files")
    assert "not in cache" in dvc(root, "status")
    plan = run_mlopsctl(["plan"], root).stdout
    assert "output artifacts/iris is not in the DVC cache" in plan
    git(root, "status")  # the repository itself is untouched
