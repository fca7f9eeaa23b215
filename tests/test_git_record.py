"""The Git record is the truth: each version tag reproduces its version, on real Git, DVC, GTO
and an S3-compatible server (moto), through the real console script.

Image and deployment resources are excluded (they need a Docker engine and are tested apart):
what is under test is the commit a version tag names, the remote and the cache.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.builders import git, make_repo, run_mlopsctl
from tests.registry.registry_builders import assign, dvc, gto_show
from tests.s3_server import S3Remote

NO_ENGINE = ("--exclude", "image.*", "--exclude", "deployment.*")


def mlops(root: Path, *args: str, ok: bool = True, serves: bool = True) -> subprocess.CompletedProcess[str]:
    out = run_mlopsctl([*args, *(NO_ENGINE if serves else ())], root)
    if ok:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


def plan_text(root: Path) -> str:
    return mlops(root, "plan").stdout


def record_of(root: Path, tag: str) -> dict:
    return json.loads(git(root, "tag", "-l", "--format=%(contents)", tag))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def set_param(root: Path, old: str, new: str) -> None:
    spec = root / "models/iris.yaml"
    spec.write_text(spec.read_text().replace(old, new))


def s3_project(remote: S3Remote) -> dict:
    return {"data": {"remote": {"name": "storage", "url": remote.url, "endpointurl": remote.endpoint}}}


@pytest.mark.slow
def test_version_tags_reproduce_their_versions(tmp_path: Path, s3_remote: S3Remote) -> None:
    root = make_repo(tmp_path, project=s3_project(s3_remote),
                     model={"serve": {"staging": {"version": "latest"}}})
    first = mlops(root, "apply", "--auto-approve")
    assert "recorded " in first.stderr and "(the commit v1 is tagged on)" in first.stderr
    assert git(root, "status", "--porcelain") == ""  # everything apply wrote is in the record commit
    assert git(root, "rev-parse", "iris@v1.0.0^{commit}") == git(root, "rev-parse", "HEAD")
    assert git(root, "log", "-1", "--format=%s") == "mlopsctl: record training outputs of iris v1 [skip ci]"
    assert "No changes" in plan_text(root)

    # An uncommitted spec edit never becomes a version: refused before anything runs.
    set_param(root, "n_estimators: 20", "n_estimators: 1")
    refused = mlops(root, "apply", "--auto-approve", ok=False)
    assert refused.returncode == 1
    assert "uncommitted changes to models/iris.yaml: commit them first" in refused.stdout + refused.stderr
    assert git(root, "tag", "-l", "iris@*") == "iris@v1.0.0"
    git(root, "commit", "-qam", "One tree")
    second = mlops(root, "apply", "--auto-approve")
    assert "registered v2" in second.stderr
    v1, v2 = record_of(root, "iris@v1.0.0"), record_of(root, "iris@v2.0.0")
    assert v2["lineage"]["code_commit"] == git(root, "rev-parse", "iris@v2.0.0^{commit}")
    assert v2["lineage"]["params"]["n_estimators"] == 1

    # A teammate's fresh clone: data and every version's artifacts come from the S3 remote.
    clone = tmp_path / "teammate"
    git(tmp_path, "clone", "-q", str(root), str(clone))
    dvc(clone, "pull", "-q")
    assert "Data and pipelines are up to date" in dvc(clone, "status")
    assert "No changes" in plan_text(clone)
    for tag, record in (("iris@v1.0.0", v1), ("iris@v2.0.0", v2)):
        git(clone, "checkout", "-q", tag)
        dvc(clone, "pull", "-q")
        assert sha256(clone / "artifacts/iris/model.joblib") == record["artifact"]["sha256"]
        assert "Data and pipelines are up to date" in dvc(clone, "status")
        params = (clone / "params/iris.yaml").read_text()
        assert f"n_estimators: {record['lineage']['params']['n_estimators']}" in params
    git(clone, "checkout", "-q", "main")
    diff = json.loads(dvc(clone, "metrics", "diff", "iris@v1.0.0", "iris@v2.0.0", "--all", "--json"))
    assert "reports/iris/metrics.json" in diff, diff
    acc = diff["reports/iris/metrics.json"]["accuracy"]
    assert acc["old"] == pytest.approx(v1["metrics"]["accuracy"]) and acc["new"] == pytest.approx(
        v2["metrics"]["accuracy"])

    # Going back to v1's params: the plan says what will happen, and apply keeps that promise.
    set_param(root, "n_estimators: 1", "n_estimators: 20")
    git(root, "commit", "-qam", "Back to 20 trees")
    plan = plan_text(root)
    assert "equals v1" in plan and "registers v3" not in plan, plan
    mlops(root, "apply", "--auto-approve")
    assert git(root, "tag", "-l", "iris@*").split() == ["iris@v1.0.0", "iris@v2.0.0"]
    # Staging's assignment follows its deployment (which needs an engine, excluded here): the full
    # plan promises it, and it is written the way apply writes it once the deployment is healthy.
    assert re.search(r"staging: (assign v1 |v\d+ -> v1)", run_mlopsctl(["plan"], root).stdout)
    assign(root, "staging")
    assert _gto_stage(root, "staging") == "v1.0.0"
    assert "No changes" in plan_text(root)

    # Serve v2 in production, then let DVC collect it from the cache: the plan restores it.
    spec = root / "models/iris.yaml"
    spec.write_text(spec.read_text() + "  production:\n    version: 2\n")
    git(root, "commit", "-qam", "Production serves v2")
    mlops(root, "apply", "--auto-approve")
    assign(root, "production")
    assert _gto_stage(root, "production") == "v2.0.0"
    dvc(root, "gc", "-w", "-f")
    plan = plan_text(root)
    assert "v2 is served but its artifact is not in the DVC cache" in plan
    mlops(root, "apply", "--auto-approve")
    assert "No changes" in plan_text(root)

    # A wiped remote: the dataset and both versions are pushed again.
    s3_remote.wipe()
    plan = plan_text(root)
    assert "data/iris.csv is not pushed to remote 'storage'" in plan
    assert re.search(r"v1's artifact is not in DVC remote 'storage'", plan)
    assert re.search(r"v2's artifact is not in DVC remote 'storage'", plan)
    mlops(root, "apply", "--auto-approve")
    assert "No changes" in plan_text(root)


def _gto_stage(root: Path, env: str) -> str | None:
    """What ``gto show`` says ``env`` serves."""
    return gto_show(root)["iris"]["stage"].get(env)


@pytest.mark.slow
def test_detached_head_and_dirty_tree_register_nothing(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    git(root, "checkout", "-q", "--detach")
    out = mlops(root, "apply", "--auto-approve", ok=False, serves=False)
    assert out.returncode == 1
    assert "HEAD is detached: check out a branch" in out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert git(root, "tag") == ""
    git(root, "checkout", "-q", "main")
    (root / "notes.txt").write_text("draft\n")  # untracked and not an input of training: no matter
    (root / "src").mkdir()
    (root / "src/features.py").write_text("X = 1\n")  # untracked code: it would not be in the tagged commit
    out = mlops(root, "plan", "--detailed-exitcode", ok=False, serves=False)
    assert out.returncode == 1 and "uncommitted changes to src/features.py: commit them first" in out.stdout
    assert "notes.txt" not in out.stdout
