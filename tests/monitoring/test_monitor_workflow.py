"""The scheduled workflow with continuous training: rendered for a retraining model, a served
model (captured requests) and a plain one, and passing the same three checkers as every workflow."""

from __future__ import annotations

from pathlib import Path

from tests.builders import make_repo, model_spec, to_yaml
from tests.ci.workflow_checks import lint, render_workflows

MONITOR = ".github/workflows/mlops-monitor.yml"


def _yaml(text: str):  # type: ignore[no-untyped-def]
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def test_retrain_and_capture_jobs_lint_clean_with_least_privilege(tmp_path: Path) -> None:
    specs = {
        "iris": model_spec("iris", monitor={"schedule": "0 6 * * 1", "retrain": {"data": "incoming/iris.csv"}}),
        "wine": model_spec("wine", monitor={"schedule": "0 6 * * 1"},
                           serve={"staging": {"version": "latest"}, "production": {"version": 1}}),
        "penguins": model_spec("penguins", monitor={"schedule": "30 2 * * *"}),
    }
    root = make_repo(tmp_path, models=tuple(specs), files={f"models/{n}.yaml": to_yaml(d) for n, d in specs.items()},
                     project={"data": {"remote": {"name": "r", "url": "s3://bucket/ml"}}})
    files = render_workflows(root)
    lint(root, sorted(files))
    jobs = _yaml(files[MONITOR])["jobs"]
    iris = jobs["drift-iris"]
    assert iris["permissions"] == {"contents": "write", "pull-requests": "write"}
    step = iris["steps"][-1]
    assert step["run"].strip().endswith('mlopsctl retrain "$MODEL"')
    assert step["env"]["GITHUB_TOKEN"] == "${{ github.token }}" and "AWS_ACCESS_KEY_ID" in step["env"]
    assert any("git config user.name" in (s.get("run") or "") for s in iris["steps"])
    wine = jobs["drift-wine"]
    assert wine["permissions"] == {"contents": "read"}
    envs = [s["env"]["ENVIRONMENT"] for s in wine["steps"] if "ENVIRONMENT" in (s.get("env") or {})]
    assert envs == ["staging", "production"]
    assert jobs["drift-penguins"]["permissions"] == {"contents": "read"}
    assert jobs["drift-penguins"]["steps"][-1]["run"].strip().endswith('mlopsctl drift "$MODEL" --fail-on-drift')
    # checkout never keeps a token; only the proposal step sees one
    for job in jobs.values():
        co = next(s for s in job["steps"] if "actions/checkout" in (s.get("uses") or ""))
        assert co["with"]["persist-credentials"] is False
