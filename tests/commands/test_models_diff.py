"""``mlopsctl models diff A B`` on versions, branches and commits, and ``dvc metrics diff`` /
``dvc params diff`` on the same revisions of a fresh clone (the metrics are kept in Git)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import git, make_repo, model_spec, run_mlopsctl, sklearn_iris_csv, to_yaml


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def dvc(root: Path, *args: str) -> str:
    exe = Path(sys.executable).parent / "dvc"
    return ok(subprocess.run([str(exe), *args], cwd=root, capture_output=True, text=True, timeout=300,
                             check=False)).stdout


def train_and_commit(root: Path, trees: int, branch: str | None = None) -> None:
    if branch:
        git(root, "checkout", "-q", "-b", branch)
    (root / "models/iris.yaml").write_text(to_yaml(model_spec(
        "iris", estimator={"params": {"n_estimators": trees, "random_state": 0}}, split={"test_size": 0.5})))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"{trees} trees")  # the reviewed change, then apply
    ok(run_mlopsctl(["apply", "--auto-approve"], root))  # no serve section: no image, no deployment
    if git(root, "status", "--porcelain").strip():  # apply commits its own records; anything left goes here
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"record the training of {trees} trees")


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1 (1 tree) on main, v2 (40 trees) on the branch more-trees, each commit holding its record."""
    root = make_repo(tmp_path_factory.mktemp("diff"), files={"data/iris.csv": sklearn_iris_csv()})
    train_and_commit(root, 1)
    train_and_commit(root, 40, branch="more-trees")
    return root


@pytest.mark.slow
def test_versions_side_by_side_with_deltas(two_versions: Path) -> None:
    proc = ok(run_mlopsctl(["models", "diff", "iris@v1", "iris@v2"], two_versions))
    lines = proc.stdout.splitlines()
    assert lines[0] == "iris: iris v1 vs iris v2"
    acc = next(line for line in lines if line.startswith("metrics") and "accuracy" in line).split()
    v1, v2 = json.loads(run_mlopsctl(["models", "iris", "--format", "json"], two_versions).stdout)["models"]["iris"][
        "versions"]
    assert float(acc[2]) == pytest.approx(v1["metrics"]["accuracy"], abs=5e-5)
    assert float(acc[3]) == pytest.approx(v2["metrics"]["accuracy"], abs=5e-5)
    assert any(line.split()[:4] == ["params", "estimator.params.n_estimators", "1", "40"] for line in lines)
    assert any(line.startswith("code") and v1["commit"][:12] in line and v2["commit"][:12] in line for line in lines)
    assert not any(line.startswith("data") for line in lines)  # same data: left out unless --all
    full = ok(run_mlopsctl(["models", "diff", "iris@v1", "iris@v2", "--all"], two_versions)).stdout.splitlines()
    md5 = next(line.split() for line in full if line.startswith("data") and " md5 " in line)
    assert md5[2] == md5[3] and len(md5) == 4  # equal on both sides, so no delta


@pytest.mark.slow
def test_branches_and_commits_in_three_formats(two_versions: Path) -> None:
    doc = json.loads(ok(run_mlopsctl(["models", "diff", "main", "more-trees", "--format", "json"],
                                     two_versions)).stdout)
    rows = {(r["section"], r["key"]): r for r in doc["rows"]}
    acc = rows[("metrics", "accuracy")]
    assert acc["delta"] == pytest.approx(acc["b"] - acc["a"])
    assert rows[("params", "estimator.params.n_estimators")]["a"] == 1
    assert doc["b"]["commit"] == git(two_versions, "rev-parse", "more-trees")
    md = ok(run_mlopsctl(["models", "diff", "main", "v2", "--model", "iris", "--format", "markdown"],
                         two_versions)).stdout
    assert md.startswith("### `iris`: main (")
    assert "| params | `estimator.params.n_estimators` | 1 | 40 | changed |" in md
    bad = run_mlopsctl(["models", "diff", "main", "no-such-branch"], two_versions)
    assert bad.returncode == 1 and "'no-such-branch' is neither a registered version" in bad.stderr


@pytest.mark.slow
def test_dvc_metrics_and_params_diff_work_in_a_fresh_clone(two_versions: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(two_versions), str(clone))
    metrics = json.loads(dvc(clone, "metrics", "diff", "origin/main", "origin/more-trees", "--json"))
    ours = json.loads(ok(run_mlopsctl(["models", "diff", "origin/main", "origin/more-trees", "--format", "json"],
                                      clone)).stdout)
    rows = {r["key"]: r for r in ours["rows"] if r["section"] == "metrics"}
    dvc_acc = metrics["reports/iris/metrics.json"]["accuracy"]
    assert dvc_acc["old"] == pytest.approx(rows["accuracy"]["a"]) and dvc_acc["new"] == pytest.approx(rows["accuracy"]["b"])
    assert dvc_acc["diff"] == pytest.approx(rows["accuracy"]["delta"])
    params = json.loads(dvc(clone, "params", "diff", "origin/main", "origin/more-trees", "--json"))
    assert params["params/iris.yaml"]["estimator.params.n_estimators"] == {"old": 1, "new": 40, "diff": 39}
    plots = json.loads(dvc(clone, "plots", "diff", "origin/main", "origin/more-trees", "--json"))
    assert sorted(plots["data"]) == ["reports/iris/plots/confusion.csv", "reports/iris/plots/precision_recall.csv",
                                     "reports/iris/plots/roc.csv"]
    assert {r for p in plots["data"].values() for r in p[0]["revisions"]} == {"origin/main", "origin/more-trees"}


@pytest.mark.slow
def test_cards_and_tags_name_who_trained_and_registered(two_versions: Path) -> None:
    card = ok(run_mlopsctl(["models", "iris", "--card", "--version", "2"], two_versions)).stdout
    registered = next(line for line in card.splitlines() if line.startswith("| Registered |"))
    trained = next(line for line in card.splitlines() if line.startswith("| Trained |"))
    assert registered.endswith(" by mlopsctl tests <tests@mlopsctl.invalid> |"), registered
    assert trained.endswith(" by mlopsctl tests <tests@mlopsctl.invalid> |"), trained
    tag = json.loads(git(two_versions, "tag", "-l", "--format=%(contents)", "iris@v2.0.0").split("-----BEGIN")[0])
    assert tag["registered_by"] == {"name": "mlopsctl tests", "email": "tests@mlopsctl.invalid"}
    assert tag["lineage"]["trained_by"] == {"name": "mlopsctl tests", "email": "tests@mlopsctl.invalid"}
