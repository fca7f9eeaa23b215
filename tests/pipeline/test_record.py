"""A stage's record, checked against DVC's own: the ``dvc.lock`` entry, the run-cache key and the
restore of a cached run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from mlopsctl.pipeline.facts import StatCache, cache_dir
from mlopsctl.pipeline.lockfile import LockWriter
from mlopsctl.pipeline.record import run_key, run_record_path, stage_entry
from mlopsctl.pipeline.runcache import restore
from mlopsctl.pipeline.stages import stage_def
from mlopsctl.providers.stage import _as_dict
from tests.builders import make_repo, model_spec, run_mlopsctl

pytestmark = pytest.mark.slow


def _dvc(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "DVC_NO_ANALYTICS": "1"}
    return subprocess.run([str(Path(bindir) / "dvc"), *args], cwd=repo, capture_output=True, text=True, env=env,
                          check=False)


def _stage(name: str) -> dict[str, Any]:
    return _as_dict(stage_def(name, model_spec(name)))


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose stage DVC itself ran (``dvc repro``): its lock entry and run record."""
    repo = make_repo(tmp_path_factory.mktemp("record"), models=("iris",))
    files = run_mlopsctl(["apply", "--auto-approve", "--target", "file.*", "--target", "dataset.*"], repo)
    assert files.returncode == 0, files.stderr[-2000:]
    ran = _dvc(repo, "repro", "train_iris")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return repo


def test_the_entry_is_the_one_dvc_writes(reproduced: Path) -> None:
    dvcs = YAML(typ="safe").load((reproduced / "dvc.lock").read_text())["stages"]["train_iris"]
    ours = stage_entry(reproduced, _stage("iris"), StatCache(reproduced))
    assert ours == dvcs
    assert [o["path"] for o in ours["outs"]][:1] == ["artifacts/iris"]  # metrics and plots recorded too
    assert any(o["path"].endswith("metrics.json") for o in ours["outs"])


def test_the_run_cache_key_and_value_are_dvcs(reproduced: Path) -> None:
    entry = stage_entry(reproduced, _stage("iris"), StatCache(reproduced))
    records = list((cache_dir(reproduced) / "runs").glob("*/*/*"))
    assert [run_record_path(reproduced, entry)] == records
    assert records[0].parent.name == run_key(entry)


def test_the_lock_file_is_dumped_as_dvc_dumps_it(reproduced: Path, tmp_path: Path) -> None:
    text = (reproduced / "dvc.lock").read_text()
    copy = tmp_path / "dvc.lock"
    copy.write_text(text)
    writer = LockWriter(tmp_path)
    entry = YAML(typ="safe").load(text)["stages"]["train_iris"]
    writer.record("train_iris", entry)  # rewritten in place
    assert copy.read_text() == text
    writer.record("train_other", {**entry, "cmd": "mlopsctl train other"})
    again = YAML(typ="safe").load(copy.read_text())["stages"]
    assert list(again) == ["train_iris", "train_other"] and again["train_iris"] == entry


def test_a_cached_run_is_restored_not_rerun(reproduced: Path) -> None:
    artifact = reproduced / "artifacts" / "iris" / "model.joblib"
    before = artifact.read_bytes()
    for out in ("artifacts/iris", "reports/iris/metrics.json"):
        path = reproduced / out
        if path.is_dir():
            import shutil

            shutil.rmtree(path)
        else:
            path.unlink()
    got = restore(reproduced, _stage("iris"), StatCache(reproduced))
    assert got is not None
    entry, record = got
    assert artifact.read_bytes() == before and (reproduced / "reports/iris/metrics.json").is_file()
    assert record == run_record_path(reproduced, entry)
    assert "Data and pipelines are up to date" in _dvc(reproduced, "status").stdout


def test_other_params_have_no_cached_run(reproduced: Path) -> None:
    other = _stage("iris")
    params_file = reproduced / other["params_file"]
    saved = params_file.read_text()
    try:
        params_file.write_text(saved.replace("n_estimators: 20", "n_estimators: 21"))
        assert "n_estimators: 21" in params_file.read_text()
        assert restore(reproduced, other, StatCache(reproduced)) is None
    finally:
        params_file.write_text(saved)


def test_a_restore_never_writes_through_a_symlink_out_of_the_repository(reproduced: Path, tmp_path: Path) -> None:
    from mlopsctl.errors import WriteError

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    artifacts = reproduced / "artifacts"
    kept = reproduced.parent / "artifacts-kept"
    artifacts.rename(kept)
    try:
        artifacts.symlink_to(outside, target_is_directory=True)
        with pytest.raises(WriteError, match="refusing to touch artifacts/iris"):
            restore(reproduced, _stage("iris"), StatCache(reproduced))
        assert list(outside.iterdir()) == []
    finally:
        artifacts.unlink()
        kept.rename(artifacts)
