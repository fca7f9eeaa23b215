"""Datasets through real DVC: plan reasons from DVC's files, apply with dvc add + push."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.core.model import Action, Change
from mlopsctl.core.plan import diff_one
from mlopsctl.errors import MlopsError
from mlopsctl.pipeline import facts
from mlopsctl.providers.dataset import DatasetProvider
from tests.pipeline.dvcrepos import context, dvc, make_repo
from tests.s3_server import S3Remote

# Real DVC runs, training or Git registries in every test: left out of the fast suite.
pytestmark = pytest.mark.slow


ADDRESS = "dataset.data/iris.csv"


def _plan(root: Path, validate: bool = True) -> Change:
    ctx = context(root, log=lambda _: None, validate=validate)
    (res,) = DatasetProvider().expand(ctx)
    assert res.address == ADDRESS
    return diff_one(ctx, res.address, res)


def _apply(root: Path, change: Change) -> None:
    DatasetProvider().apply(change, context(root, log=lambda _: None))


def test_track_push_change_and_repush(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    first = _plan(root)
    assert first.action is Action.CREATE
    assert "data/iris.csv is not tracked by DVC yet" in first.reasons
    assert any("DVC is not initialised" in r for r in first.reasons)
    assert any("tracked by Git" in r for r in first.reasons)
    _apply(root, first)
    out = facts.read_dvcfile(root, "data/iris.csv")
    assert out is not None and out["md5"] == facts.md5_file(root / "data/iris.csv")  # DVC 3: plain md5
    remote = tmp_path / "dvc-remote"
    assert facts.in_store(remote, out["md5"])
    assert _plan(root).action is Action.NOOP
    assert dvc(root, "status", "--json").stdout.strip() in ("{}", "")

    with open(root / "data/iris.csv", "a") as f:
        f.write("5.0,3.0,1.5,0.2,setosa\n")
    changed = _plan(root)
    new_md5 = facts.md5_file(root / "data/iris.csv")
    assert changed.action is Action.UPDATE
    assert changed.reasons == (f"data/iris.csv changed (md5 {out['md5'][:8]} -> {new_md5[:8]})",)
    _apply(root, changed)
    assert _plan(root).action is Action.NOOP

    obj = facts.object_path(remote, new_md5)
    obj.unlink()
    unpushed = _plan(root)
    assert unpushed.reasons == ("data/iris.csv is not pushed to remote 'local'",)
    _apply(root, unpushed)
    assert obj.exists() and _plan(root).action is Action.NOOP


def test_missing_data_file_is_blocked(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    (root / "data/iris.csv").unlink()
    change = _plan(root, validate=False)  # the spec loader already refuses this; the provider too
    assert change.blocked and "data file data/iris.csv does not exist (models/iris.yaml:" in change.blocked


def test_missing_tracked_file_is_pulled(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    _apply(root, _plan(root))
    digest = facts.md5_file(root / "data/iris.csv")
    (root / "data/iris.csv").unlink()
    dvc(root, "gc", "-w", "-f")  # nothing in the workspace uses it: gone from the local cache too
    change = _plan(root)
    assert change.action is Action.UPDATE and "will be pulled" in change.reasons[0]
    _apply(root, change)
    assert facts.md5_file(root / "data/iris.csv") == digest


def _s3_repo(tmp_path: Path, remote: S3Remote, **project: object) -> Path:
    spec = {"data": {"remote": {"name": "storage", "url": remote.url, "endpointurl": remote.endpoint}}}
    return make_repo(tmp_path, project={**spec, **project})


@pytest.mark.slow
def test_s3_remote_is_read_wiped_and_converges(tmp_path: Path, s3_remote: S3Remote) -> None:
    """The remote itself is asked (moto's S3 server): a fresh, a wiped or a switched remote shows as a change."""
    root = _s3_repo(tmp_path, s3_remote)
    first = _plan(root)
    assert any("'storage' is not configured" in r for r in first.reasons)
    _apply(root, first)
    md5 = facts.read_dvcfile(root, "data/iris.csv")["md5"]  # type: ignore[index]
    assert f"dvc/files/md5/{md5[:2]}/{md5[2:]}" in s3_remote.objects()
    assert _plan(root).action is Action.NOOP
    s3_remote.wipe()
    wiped = _plan(root)
    assert wiped.action is Action.UPDATE and wiped.reasons == ("data/iris.csv is not pushed to remote 'storage'",)
    _apply(root, wiped)
    assert _plan(root).action is Action.NOOP and s3_remote.objects()


@pytest.mark.slow
def test_s3_remote_without_credentials_or_unreachable_is_a_clear_error(
    tmp_path: Path, s3_remote: S3Remote, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _s3_repo(tmp_path, s3_remote)
    _apply(root, _plan(root))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no cloud instance to ask either
    with pytest.raises(MlopsError, match=r"cannot read the DVC remote s3://.*AWS_ACCESS_KEY_ID"):
        _plan(root)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    dvc(root, "remote", "modify", "storage", "endpointurl", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(MlopsError, match=r"cannot read the DVC remote .*127.0.0.1:9 does not answer.*check data.remote.url"):
        _plan(root)
