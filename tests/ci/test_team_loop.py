"""The team loop on fresh clones, as GitHub Actions would run it, against a bare ``origin``:
a pull request's plan job, the merge, the apply job on a fresh runner clone, then a teammate's
fresh clone that pulls data and models from the S3 remote (moto) and plans "No changes".

The workflows' ``run:`` steps are executed as written (``bash -eo pipefail``, the step's env);
steps that ``uses:`` an action (checkout, setup-python, artifacts) are what the clones and this
environment stand in for. Step timings are printed (``pytest -s``) for the record.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from tests.builders import git, make_repo, run_mlopsctl
from tests.ci.workflow_checks import mlopsctl_path, run_step
from tests.registry.registry_builders import dvc
from tests.s3_server import CREDENTIALS, S3Remote

PLAN = ".github/workflows/mlops-plan.yml"
APPLY = ".github/workflows/mlops-apply.yml"
APPLY_STEPS = ("Set the Git identity for registry tags and training records", "Pull data from the DVC remote",
               "Apply", "Publish the registry tags and the audit records", "Record training outputs")
PLAN_STEPS = ("Pull data and DVC's run cache from the DVC remote", "Validate the specs", "Plan")


class Clock:
    def __init__(self) -> None:
        self.rows: list[tuple[str, float]] = []

    def step(self, name: str, started: float) -> None:
        self.rows.append((name, time.monotonic() - started))

    def report(self) -> str:
        width = max(len(n) for n, _ in self.rows)
        return "\n".join(f"  {n.ljust(width)}  {s:6.1f}s" for n, s in self.rows)


def runner_env(tmp: Path, clone: Path, ref: str) -> dict[str, str]:
    temp = tmp / f"runner-temp-{clone.name}"
    temp.mkdir(exist_ok=True)
    return {**CREDENTIALS, "GITHUB_TOKEN": "not-a-token", "SERVER_URL": "https://github.invalid",
            "RUNNER_TEMP": str(temp), "GITHUB_SHA": git(clone, "rev-parse", "HEAD"), "GITHUB_REF": ref,
            "GITHUB_OUTPUT": str(temp / "output"), "PATH": mlopsctl_path()}


def run_job(workflow: str, job: str, steps: tuple[str, ...], clone: Path, env: dict[str, str]) -> str:
    out = []
    for name in steps:
        proc = run_step(workflow, job, name, clone, env)
        assert proc.returncode == 0, f"step {name!r} failed:\n{proc.stdout}\n{proc.stderr}"
        out.append(proc.stdout + proc.stderr)
    return "\n".join(out)


@pytest.mark.slow
def test_pull_request_merge_apply_and_a_teammates_clone(
    tmp_path: Path, s3_remote: S3Remote, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A runner has no Git identity in its environment: the workflow's identity step sets it.
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    clock = Clock()
    spec = {"data": {"remote": {"name": "storage", "url": s3_remote.url, "endpointurl": s3_remote.endpoint}}}
    origin = tmp_path / "origin.git"

    # 1. The project starts: one apply on the author's machine, pushed with its tags.
    t = time.monotonic()
    author = make_repo(tmp_path, project=spec, name="author")
    out = run_mlopsctl(["apply", "--auto-approve"], author)
    assert out.returncode == 0, out.stderr
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(author, "remote", "add", "origin", str(origin))
    git(author, "push", "-q", "origin", "main", "--tags")
    clock.step("first apply on the author's machine, push", t)

    # 2. A pull request: a developer's clone, a branch, one model change.
    t = time.monotonic()
    dev = tmp_path / "dev"
    git(tmp_path, "clone", "-q", str(origin), str(dev))
    git(dev, "switch", "-q", "-c", "more-trees")
    model = dev / "models/iris.yaml"
    model.write_text(model.read_text().replace("n_estimators: 20", "n_estimators: 40"))
    git(dev, "commit", "-qam", "iris: 40 trees")
    git(dev, "push", "-q", "origin", "more-trees")
    clock.step("pull request branch pushed", t)

    # 3. The plan job on a fresh runner clone of the branch.
    t = time.monotonic()
    runner = tmp_path / "plan-runner"
    git(tmp_path, "clone", "-q", "-b", "more-trees", str(origin), str(runner))
    workflow = (runner / PLAN).read_text()
    plan_log = run_job(workflow, "plan", PLAN_STEPS, runner, runner_env(tmp_path, runner, "refs/pull/1/merge"))
    plan_md = (runner / "plan.md").read_text()
    assert "estimator.params.n_estimators 20 -&gt; 40" in plan_md or "n_estimators 20 -> 40" in plan_md
    assert "register v2" in plan_md and "blocked" not in plan_md.lower(), plan_log[-3000:]
    clock.step("plan job (pull, validate, plan)", t)

    # 4. The merge.
    t = time.monotonic()
    git(dev, "switch", "-q", "main")
    git(dev, "merge", "-q", "--no-ff", "-m", "Merge pull request #1 from dev/more-trees", "more-trees")
    git(dev, "push", "-q", "origin", "main")
    merged = git(dev, "rev-parse", "HEAD")
    clock.step("merge", t)

    # 5. The apply job on a fresh runner clone of main.
    t = time.monotonic()
    runner = tmp_path / "apply-runner"
    git(tmp_path, "clone", "-q", str(origin), str(runner))
    log = run_job((runner / APPLY).read_text(), "apply", APPLY_STEPS, runner,
                  runner_env(tmp_path, runner, "refs/heads/main"))
    assert "registered v2" in log
    clock.step("apply job (pull, apply, tags, record)", t)
    bot = git(origin, "rev-list", f"{merged}..main").split()
    assert len(bot) == 1, git(origin, "log", "--oneline", f"{merged}..main")
    assert git(origin, "log", "-1", "--format=%an %s", "main") == (
        "github-actions[bot] mlopsctl: record training outputs of iris v2 [skip ci]")
    assert git(origin, "rev-parse", "iris@v2.0.0^{commit}") == bot[0]  # the tag names the record commit
    changed = set(git(origin, "diff", "--name-only", f"{merged}..main").split())
    assert {"dvc.lock", "params/iris.yaml"} <= changed

    # 6. A teammate's fresh clone: data and models from the remote, a clean DVC, no changes.
    t = time.monotonic()
    mate = tmp_path / "teammate"
    git(tmp_path, "clone", "-q", str(origin), str(mate))
    dvc(mate, "pull", "-q")
    assert "Data and pipelines are up to date" in dvc(mate, "status")
    again = run_mlopsctl(["plan", "--detailed-exitcode"], mate)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout
    clock.step("teammate: clone, dvc pull, dvc status, plan", t)

    # DVC's own tools find a registered version by its GTO tag (dvc.yaml's artifacts: section).
    t = time.monotonic()
    got = tmp_path / "v1.joblib"
    dvc(mate, "artifacts", "get", str(origin), "iris", "--rev", "v1.0.0", "-o", str(got))
    v1 = json.loads(git(mate, "tag", "-l", "--format=%(contents)", "iris@v1.0.0"))
    assert hashlib.sha256(got.read_bytes()).hexdigest() == v1["artifact"]["sha256"]
    clock.step("dvc artifacts get iris --rev v1.0.0", t)

    report = "team loop timings:\n" + clock.report() + f"\n  bot commits for the merge: {len(bot)}"
    print(report)
    (Path(os.environ.get("MLOPSCTL_LOOP_REPORT", tmp_path / "loop.txt"))).write_text(report + "\n")
