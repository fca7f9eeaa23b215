"""``mlopsctl lock merge``: the stage records of several dvc.lock files in one, as DVC writes it.

The merge runs through the CLI's real error handler; the end-to-end test trains two models in two
clones (the per-model jobs of the apply workflow), merges their records into a third clone and
checks that DVC and mlopsctl both find every stage done there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.builders import git, make_repo, model_spec, run_mlopsctl, to_yaml


def entry(model: str, digest: str) -> str:
    return (f"  train_{model}:\n    cmd: mlopsctl train {model}\n    deps:\n    - path: data/{model}.csv\n"
            f"      hash: md5\n      md5: {digest}\n      size: 10\n    outs:\n    - path: artifacts/{model}\n"
            f"      hash: md5\n      md5: {digest}.dir\n      size: 20\n      nfiles: 4\n")


def lock(**stages: str) -> str:
    return "schema: '2.0'\nstages:\n" + "".join(entry(m, d) for m, d in stages.items())


A, B, C = "a" * 32, "b" * 32, "c" * 32


def commit_lock(repo: Path, text: str) -> None:
    """dvc.lock as the commit every job of a run checked out."""
    (repo / "dvc.lock").write_text(text)
    git(repo, "add", "dvc.lock")
    git(repo, "commit", "-q", "-m", "records")


def test_takes_the_stages_that_differ_from_each_file(repo: Path, tmp_path: Path, cli: Any) -> None:
    commit_lock(repo, lock(iris=A, wine=A))
    (tmp_path / "iris.lock").write_text(lock(iris=B, wine=A))  # the iris job retrained iris only
    (tmp_path / "wine.lock").write_text(lock(iris=A, wine=C))
    result = cli("lock", "merge", str(tmp_path / "iris.lock"), str(tmp_path / "wine.lock"))
    assert result.exit_code == 0, result.output
    # Neither file alone holds both: taking whole files would undo one model's training.
    assert (repo / "dvc.lock").read_text() == lock(iris=B, wine=C)
    assert f"train_iris <- {tmp_path / 'iris.lock'}" in result.stdout
    assert "2 stage records merged." in result.stdout

    again = cli("lock", "merge", str(tmp_path / "iris.lock"), str(tmp_path / "wine.lock"))
    assert again.exit_code == 0 and "already up to date" in again.stdout
    assert (repo / "dvc.lock").read_text() == lock(iris=B, wine=C)


def test_a_new_stage_is_appended_and_a_missing_lock_is_created(repo: Path, tmp_path: Path, cli: Any) -> None:
    (tmp_path / "first.lock").write_text(lock(iris=A))
    assert cli("lock", "merge", str(tmp_path / "first.lock")).exit_code == 0
    assert (repo / "dvc.lock").read_text() == lock(iris=A)
    (tmp_path / "both.lock").write_text(lock(iris=A, wine=B))
    assert cli("lock", "merge", str(tmp_path / "both.lock")).exit_code == 0
    assert (repo / "dvc.lock").read_text() == lock(iris=A, wine=B)


def test_two_files_that_changed_one_stage_differently_are_refused(repo: Path, tmp_path: Path, cli: Any) -> None:
    original = lock(iris=A)
    commit_lock(repo, original)
    (tmp_path / "one.lock").write_text(lock(iris=B))
    (tmp_path / "two.lock").write_text(lock(iris=C))
    result = cli("lock", "merge", str(tmp_path / "one.lock"), str(tmp_path / "two.lock"))
    assert result.exit_code == 1
    assert f"{tmp_path / 'two.lock'}: stage train_iris differs from its record in {tmp_path / 'one.lock'}" in (
        result.stderr)
    assert (repo / "dvc.lock").read_text() == original


BAD = {
    "not-yaml.lock": ("schema: '2.0'\nstages: [\n", "not-yaml.lock:3:1: not valid YAML"),
    "a-list.lock": ("- train_iris\n", "not a DVC lock file: the document is a list, not a mapping"),
    "old-format.lock": ("train_iris:\n  cmd: python train.py\n", "not a DVC 3 lock file (no schema key)"),
    "other-schema.lock": ("schema: '3.0'\nstages: {}\n", "not a DVC 3 lock file (schema '3.0')"),
    "stages-list.lock": ("schema: '2.0'\nstages: [train_iris]\n", "stages: a list where a mapping belongs"),
    "stage-not-record.lock": ("schema: '2.0'\nstages:\n  train_iris: 3\n", "stages.train_iris: not a stage record"),
    "binary.lock": (b"\xff\xfe\x00schema", "not a DVC lock file (not UTF-8 text)"),
    "duplicate.lock": ("schema: '2.0'\nstages:\n  a: {cmd: x}\n  a: {cmd: y}\n",
                       "duplicate.lock:4:3: not valid YAML (found duplicate key"),
    "empty.lock": ("", "not a DVC lock file: the document is empty, not a mapping"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_file_that_is_not_a_lock_file_is_a_clear_error(repo: Path, cli: Any, name: str) -> None:
    content, message = BAD[name]
    original = lock(iris=A)
    (repo / "dvc.lock").write_text(original)
    (repo / "good.lock").write_text(lock(iris=B))
    bad = repo / "in" / name
    bad.parent.mkdir()
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    # The good file comes first: nothing of it may be written either.
    result = cli("lock", "merge", "good.lock", f"in/{name}")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: in/{message}" if message.startswith(name) else f"Error: in/{name}: ")
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert (repo / "dvc.lock").read_text() == original


def test_a_broken_checked_out_lock_or_a_missing_file_is_a_clear_error(repo: Path, cli: Any) -> None:
    (repo / "good.lock").write_text(lock(iris=B))
    result = cli("lock", "merge", "nothere.lock")
    assert result.exit_code == 1 and "nothere.lock: no such file" in result.stderr
    (repo / "dvc.lock").write_text("stages: {}\n")
    result = cli("lock", "merge", "good.lock")
    assert result.exit_code == 1 and "dvc.lock: not a DVC 3 lock file" in result.stderr
    assert (repo / "dvc.lock").read_text() == "stages: {}\n"


# --------------------------------------------------------------------------- real DVC


def dvc(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "dvc"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "dvc"]
    return subprocess.run([*cmd, *args], cwd=root, capture_output=True, text=True, timeout=300, check=False)


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.slow
def test_two_trained_clones_merge_into_a_lock_dvc_and_plan_accept(tmp_path: Path, cli: Any) -> None:
    """The apply workflow with two models, on real DVC: each model job trains its own model in its
    own clone; the project job merges both records and finds nothing left to train."""
    work = tmp_path / "w"
    seed = make_repo(work, models=("iris", "wine"), name="seed")
    ok(run_mlopsctl(["apply", "--auto-approve", "--target", "stage.*"], seed))
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "first training")
    # The reviewed change: both models retrain (with the managed params files it implies).
    for name in ("iris", "wine"):
        spec = model_spec(name, estimator={"params": {"n_estimators": 30, "random_state": 0}})
        (seed / "models" / f"{name}.yaml").write_text(to_yaml(spec))
    ok(run_mlopsctl(["apply", "--auto-approve", "--target", "file.*"], seed))
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "more trees")
    origin = work / "origin.git"
    git(work, "clone", "-q", "--bare", str(seed), str(origin))
    # Siblings of the seed: the committed DVC remote (../dvc-remote) is the same folder for all.
    clones = {}
    for name in ("job-iris", "job-wine", "project"):
        clones[name] = work / name
        git(work, "clone", "-q", str(origin), str(clones[name]))
    for model in ("iris", "wine"):
        trained = ok(run_mlopsctl(["apply", "--auto-approve", "--target", f"stage.{model}.train"],
                                  clones[f"job-{model}"]))
        assert f"stage.{model}.train: updating..." in trained.stderr

    project = clones["project"]
    ok(dvc(project, "pull", "--allow-missing"))
    before = run_mlopsctl(["plan", "--target", "stage.*", "--detailed-exitcode"], project)
    assert before.returncode == 2, before.stdout + before.stderr  # both stages would retrain here

    merged = cli("lock", "merge", "../job-iris/dvc.lock", "../job-wine/dvc.lock", repo=project)
    assert merged.exit_code == 0, merged.output
    assert "2 stage records merged." in merged.stdout
    ok(dvc(project, "pull"))
    status = ok(dvc(project, "status", "--json"))
    assert json.loads(status.stdout) == {}
    after = run_mlopsctl(["plan", "--target", "stage.*", "--detailed-exitcode"], project)
    assert after.returncode == 0, after.stdout + after.stderr
    # Only the records changed in Git: the lock, and the evaluation kept in Git (the curves moved
    # with the extra trees); the model outputs came from the DVC remote.
    assert git(project, "status", "--porcelain", "--untracked-files=no").split("\n") == [
        "M dvc.lock", " M reports/iris/plots/precision_recall.csv", " M reports/iris/plots/roc.csv",
        " M reports/wine/plots/precision_recall.csv", " M reports/wine/plots/roc.csv"]
