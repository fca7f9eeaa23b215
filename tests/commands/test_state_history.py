"""The durable audit trail: every apply, refused or not, recorded in Git notes, published by the
workflow's push step to a bare ``origin``, and read back by ``state history`` in a fresh clone."""

from __future__ import annotations

import json
from pathlib import Path

from tests.builders import git, make_repo, model_spec, run_mlopsctl, to_yaml
from tests.ci.workflow_checks import render_workflows, run_step

FILES = ("--target", "file.*")
CI = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat", "GITHUB_RUN_ID": "4242",
      "GITHUB_REPOSITORY": "acme/models", "GITHUB_SERVER_URL": "https://github.example"}


def test_applies_refused_or_not_are_recorded_where_a_fresh_clone_reads_them(tmp_path: Path) -> None:
    seed = make_repo(tmp_path, name="seed")
    workflow = render_workflows(seed)[".github/workflows/mlops-apply.yml"]
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    runner = tmp_path / "runner"
    git(tmp_path, "clone", "-q", str(origin), str(runner))

    ok = run_mlopsctl(["apply", "--auto-approve", *FILES], runner, env=CI)
    assert ok.returncode == 0, ok.stderr
    head = git(runner, "rev-parse", "HEAD")
    # A saved plan that went stale: refused, and recorded with the reason.
    assert run_mlopsctl(["plan", "-o", "saved.json", *FILES], runner).returncode in (0, 2)
    (runner / "models/iris.yaml").write_text(to_yaml(model_spec("iris", description="changed after planning")))
    refused = run_mlopsctl(["apply", "saved.json"], runner, env=CI)
    assert refused.returncode == 1

    temp = tmp_path / "runner-temp"
    temp.mkdir()
    step = run_step(workflow, "apply", "Publish the registry tags and the audit records", runner,
                    {"GITHUB_TOKEN": "not-a-token", "SERVER_URL": "https://github.invalid", "RUNNER_TEMP": str(temp)})
    assert step.returncode == 0, step.stdout + step.stderr

    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(origin), str(fresh))
    shown = run_mlopsctl(["state", "history", "--format", "json"], fresh)
    assert shown.returncode == 0, shown.stderr
    records = json.loads(shown.stdout)
    assert [r["status"] for r in records] == ["ok", "refused"]
    first, second = records
    assert first["who"] == {"name": "mlopsctl tests", "email": "tests@mlopsctl.invalid", "actor": "octocat",
                            "run_url": "https://github.example/acme/models/actions/runs/4242"}
    assert first["commit"] == head and first["plan_digest"].startswith("sha256:")
    assert {c["status"] for c in first["changes"]} == {"ok"} and any(c["address"] == "file.dvc.yaml"
                                                                      for c in first["changes"])
    assert second["changes"] == [] and "stale" in second["error"]
    text = run_mlopsctl(["state", "history", "--no-fetch"], fresh)
    lines = text.stdout.splitlines()
    assert lines[0].split(": ok  by ")[1].startswith(f"octocat (https://github.example/acme/models/actions/runs/4242)  "
                                                     f"on {head[:12]} plan ")
    assert any(line.startswith("    error: ") and "stale" in line for line in lines)

    # Another runner's apply meanwhile: the push merges both histories line by line.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    assert run_mlopsctl(["apply", "--auto-approve", *FILES], other).returncode == 0
    step = run_step(workflow, "apply", "Publish the registry tags and the audit records", other,
                    {"GITHUB_TOKEN": "not-a-token", "SERVER_URL": "https://github.invalid", "RUNNER_TEMP": str(temp)})
    assert step.returncode == 0, step.stdout + step.stderr
    again = json.loads(run_mlopsctl(["state", "history", "--format", "json"], fresh).stdout)
    assert [r["status"] for r in again] == ["ok", "refused", "ok"]
