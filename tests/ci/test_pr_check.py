"""The pull-request check, run locally: a bare ``origin``, a main branch with a registered and
served version, pull-request branches, and the plan workflow's own ``run:`` steps in fresh
clones (the way a runner does them). The check trains what the pull request changes, registers
nothing, shows candidate metrics with deltas and gate verdicts, and fails on a failed gate."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import free_port, git, make_repo, model_spec, run_mlopsctl, sklearn_iris_csv, to_yaml
from tests.ci.workflow_checks import mlopsctl_path, render_workflows, run_step
from tests.render.snapshot_files import assert_snapshot

PLAN = ".github/workflows/mlops-plan.yml"
NO_ENGINE = ("--exclude", "image.*", "--exclude", "deployment.*")
SERVED = {"serve": {"staging": {"version": "latest"}}}
# Ports nothing listens on (a running quick start example serves on the defaults, 8101 and 8102);
# the comment's snapshot shows the default.
STAGING, PRODUCTION = free_port(), free_port()
PORTS = {"environments": {"staging": {"port": STAGING}, "production": {"port": PRODUCTION}}}


def dvc(root: Path, *args: str) -> str:
    exe = Path(sys.executable).parent / "dvc"
    proc = subprocess.run([str(exe), *args], cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def set_spec(root: Path, **overrides: object) -> None:
    (root / "models/iris.yaml").write_text(to_yaml(model_spec("iris", **{**SERVED, **overrides})))


def pr_branch(origin: Path, work: Path, name: str, **overrides: object) -> None:
    """A developer's pull request: edit the spec, render the managed files, commit, push."""
    dev = work / f"dev-{name}"
    git(work, "clone", "-q", str(origin), str(dev))
    git(dev, "checkout", "-q", "-b", name)
    set_spec(dev, **overrides)
    ok(run_mlopsctl(["apply", "--auto-approve", "--target", "file.*"], dev))
    git(dev, "add", "-A")
    git(dev, "commit", "-q", "-m", f"pull request {name}")
    git(dev, "push", "-q", "origin", name)


def runner(origin: Path, work: Path, branch: str) -> tuple[Path, dict[str, str]]:
    """A fresh clone of the pull request, its data and DVC's run cache pulled (the pull step)."""
    clone = work / f"runner-{branch}"
    git(work, "clone", "-q", "--branch", branch, str(origin), str(clone))
    dvc(clone, "pull", "--allow-missing", "--run-cache")
    temp = work / f"temp-{branch}"
    temp.mkdir()
    env = {"PATH": mlopsctl_path(), "RUNNER_TEMP": str(temp), "GITHUB_OUTPUT": str(temp / "output"),
           "GITHUB_ACTIONS": "", "NO_COLOR": "1"}
    return clone, env


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """main: v1 (20 trees) then v2 (25 trees) registered, staging serving v2; pushed with tags."""
    work = tmp_path_factory.mktemp("prcheck")
    seed = make_repo(work, model=SERVED, name="seed", project=PORTS, files={"data/iris.csv": sklearn_iris_csv()})
    for trees in (20, 25):
        set_spec(seed, estimator={"params": {"n_estimators": trees, "random_state": 0}})
        ok(run_mlopsctl(["apply", "--auto-approve", "--target", "file.*"], seed))
        git(seed, "add", "-A")
        git(seed, "commit", "-q", "-m", f"{trees} trees")
        ok(run_mlopsctl(["apply", "--auto-approve", *NO_ENGINE], seed))
        # Apply records its training outputs in a commit of its own; anything it left goes in one more.
        if git(seed, "status", "--porcelain").strip():
            git(seed, "add", "-A")
            git(seed, "commit", "-q", "-m", f"record training of {trees} trees")
    # Staging's assignment waits for a healthy deployment, which needs an engine: assign it the way
    # that apply would once the deployment is up, so the pull request has a served version to compare.
    from tests.registry.registry_builders import assign

    assign(seed, "staging")
    bare = work / "origin.git"
    git(work, "clone", "-q", "--bare", str(seed), str(bare))
    git(seed, "push", "-q", "--tags", str(bare))
    return bare, render_workflows(seed)[PLAN]


def _normalized(text: str) -> str:
    text = text.replace(f"127.0.0.1:{STAGING}", "127.0.0.1:8101")
    return re.sub(r"planned at `[0-9a-f]{12}`", "planned at `<commit>`", text)


@pytest.mark.slow
def test_failed_gate_fails_the_check_with_metrics_and_deltas(origin: tuple[Path, str]) -> None:
    bare, workflow = origin
    work = bare.parent
    pr_branch(bare, work, "one-tree", estimator={"params": {"n_estimators": 1, "max_depth": 1, "random_state": 0}},
              gates={"accuracy": ">= 0.9"})
    clone, env = runner(bare, work, "one-tree")
    tags_before = git(clone, "tag", "--list")
    proc = run_step(workflow, "plan", "Plan", clone, env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "apply would refuse 1 blocked change(s): model.iris" in proc.stderr
    assert "candidate only: nothing is registered" in proc.stderr
    comment = (clone / "plan.md").read_text()
    assert "planned=true" in (Path(env["GITHUB_OUTPUT"])).read_text()
    assert "| ❌ | gate accuracy >= 0.9 not met by candidate" in comment
    assert "| Metric | Candidate | staging (v2) | Δ |" in comment, comment
    assert_snapshot("pr-check-failed-gate.md", _normalized(comment))
    # Nothing registered, nothing recorded: the tags and dvc.lock are as the pull request has them.
    assert git(clone, "tag", "--list") == tags_before
    assert git(clone, "status", "--porcelain", "--", "dvc.lock") == ""
    # The PNGs for the run's artifacts.
    ok(run_step(workflow, "plan", "Draw the candidates' plots", clone, env))
    assert sorted(p.name for p in (clone / "mlops-plots").iterdir()) == [
        "iris-confusion.png", "iris-precision_recall.png", "iris-roc.png"]


@pytest.mark.slow
def test_a_model_trained_before_is_restored_from_the_run_cache(origin: tuple[Path, str]) -> None:
    """The pull request goes back to 20 trees, which main trained (v1) and pushed with its run
    cache: the check restores that run instead of training, and shows it against staging's v2."""
    bare, workflow = origin
    work = bare.parent
    pr_branch(bare, work, "back-to-20", estimator={"params": {"n_estimators": 20, "random_state": 0}})
    clone, env = runner(bare, work, "back-to-20")
    proc = run_step(workflow, "plan", "Plan", clone, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Stage 'train_iris' is cached - skipping run" in proc.stderr
    assert "Running stage" not in proc.stderr
    comment = (clone / "plan.md").read_text()
    # The restored artifact is v1's, byte for byte: the registry knows it, so nothing new is registered.
    assert "estimator.params.n_estimators 25 -> 20" in comment
    assert "**Candidate v" not in comment
    assert "- `model.iris`" in comment  # among the unchanged resources


@pytest.mark.slow
def test_without_data_the_check_says_what_it_could_not_compute(origin: tuple[Path, str]) -> None:
    """A fork's pull request: no secrets, so no data pulled; the plan says so instead of guessing."""
    bare, workflow = origin
    work = bare.parent
    pr_branch(bare, work, "from-a-fork", estimator={"params": {"n_estimators": 7, "random_state": 0}})
    clone = work / "runner-fork"
    git(work, "clone", "-q", "--branch", "from-a-fork", str(bare), str(clone))
    temp = work / "temp-fork"
    temp.mkdir()
    env = {"PATH": mlopsctl_path(), "RUNNER_TEMP": str(temp), "GITHUB_OUTPUT": str(temp / "output"),
           "GITHUB_ACTIONS": "", "NO_COLOR": "1"}
    proc = run_step(workflow, "plan", "Plan", clone, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    comment = (clone / "plan.md").read_text()
    assert ("candidate metrics of iris could not be computed: data/iris.csv is missing (the data is not in this "
            "checkout: `dvc pull` needs the DVC remote's credentials, which pull requests from forks do not get)"
            in " ".join(comment.split()))
    assert "known after training" in comment
