"""The rendered GitHub Actions workflows: linted by actionlint, zizmor and GitHub's JSON Schema for
every scaffold and option combination, and checked for the safety properties they promise."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from builders import make_repo, model_spec, run_mlopsctl, to_yaml

from mlopsctl.core.specs_model import Project, SpecDoc
from mlopsctl.errors import SpecError

PLAN = ".github/workflows/mlops-plan.yml"
APPLY = ".github/workflows/mlops-apply.yml"
MONITOR = ".github/workflows/mlops-monitor.yml"
SHA_PIN = re.compile(r"^\s*(?:-\s*)?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def load_yaml(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def scaffold(tmp_path: Path, template: str) -> Path:
    proc = run_mlopsctl(["new", "repo", "--template", template], tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "repo"


def multi_model(tmp_path: Path, *, schedules: bool, remote: str) -> Path:
    names = ("iris", "wine", "penguins")
    crons = {"iris": "0 6 * * 1", "wine": "30 2 * * *", "penguins": "0 6 * * 1"}
    files = {
        f"models/{n}.yaml": to_yaml(model_spec(n, **({"monitor": {"schedule": crons[n]}} if schedules else {})))
        for n in names
    }
    return make_repo(tmp_path, models=names, files=files, project={"data": {"remote": {"name": "r", "url": remote}}})


def options_repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path,
        project={
            "data": {"remote": {"name": "store", "url": "azure://container/ml"}},
            "ci": {"python": "3.12", "install": "git+https://github.com/example/mlopsctl@v0.1.0",
                   "default_branch": "release/v1"},
        },
    )


SCENARIOS = {
    "classifier-scaffold": lambda p: scaffold(p, "classifier"),
    "regressor-scaffold": lambda p: scaffold(p, "regressor"),
    "multi-model-scheduled-s3": lambda p: multi_model(p, schedules=True, remote="s3://bucket/ml"),
    "multi-model-unscheduled-gs": lambda p: multi_model(p, schedules=False, remote="gs://bucket/ml"),
    "one-model-options-azure": options_repo,
}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, dict[str, str]]:
    """One rendered repository per scenario, shared by the tests below (they only read it)."""
    from workflow_checks import render_workflows

    root = SCENARIOS[request.param](tmp_path_factory.mktemp(request.param))
    return request.param, root, render_workflows(root)


def test_checkers_find_nothing(rendered: tuple[str, Path, dict[str, str]], lint_workflows: Any) -> None:
    _, root, files = rendered
    assert PLAN in files and APPLY in files
    lint_workflows(root, sorted(files))


def test_safe_by_construction(rendered: tuple[str, Path, dict[str, str]]) -> None:
    _, _, files = rendered
    for path, text in files.items():
        assert text.startswith("# Managed by mlopsctl"), path
        for line in text.splitlines():
            if "uses:" in line:
                assert SHA_PIN.match(line), f"{path}: action not pinned to a commit: {line.strip()}"
        doc = load_yaml(text)
        assert doc["permissions"] == {}, path
        assert "env" not in doc, f"{path}: no workflow-wide env (secrets would reach every step)"
        for job_id, job in doc["jobs"].items():
            where = f"{path} job {job_id}"
            assert "permissions" in job, where
            assert "env" not in job, where
            writes = {k for k, v in job["permissions"].items() if v == "write"}
            if job_id == "comment":
                assert writes == {"pull-requests"}, where
            elif path == APPLY:
                assert writes == {"contents"}, where  # the registry's tags
            else:
                assert writes == set(), where
            for step in job["steps"]:
                run = step.get("run", "")
                assert "${{" not in run, f"{where}: expression interpolated into run: {run!r}"
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, where
                secret_refs = [v for v in (step.get("env") or {}).values() if "secrets." in str(v)]
                if secret_refs:
                    assert step["name"].startswith(("Pull data", "Plan", "Apply", "Check")), where
                for key, value in step.items():
                    if key != "env":
                        assert "secrets." not in str(value), f"{where}: secret outside a step's env"


def test_plan_workflow_shape(rendered: tuple[str, Path, dict[str, str]]) -> None:
    _, root, files = rendered
    doc = load_yaml(files[PLAN])
    branch = load_yaml((root / "mlops.yaml").read_text())["ci"]["default_branch"]
    assert doc["on"]["pull_request"]["branches"] == [branch]
    plan_runs = "\n".join(s.get("run", "") for s in doc["jobs"]["plan"]["steps"])
    assert "mlopsctl validate" in plan_runs
    assert "mlopsctl plan -o mlops.plan --format markdown > plan.md" in plan_runs
    uploads = [s for s in doc["jobs"]["plan"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads and uploads[0]["with"]["name"] == "mlops-plan"
    comment = doc["jobs"]["comment"]
    assert comment["needs"] == "plan"
    assert 'mlopsctl comment --file plan.md --pr "$PR_NUMBER"' in comment["steps"][-1]["run"]
    assert comment["steps"][-1]["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    setup = next(s for s in doc["jobs"]["plan"]["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["cache"] == "pip"
    install = next(s for s in doc["jobs"]["plan"]["steps"] if s.get("name") == "Install mlopsctl")
    assert install["env"]["MLOPSCTL_INSTALL"] == load_yaml((root / "mlops.yaml").read_text())["ci"]["install"]


def test_apply_workflow_shape(rendered: tuple[str, Path, dict[str, str]]) -> None:
    _, root, files = rendered
    doc = load_yaml(files[APPLY])
    assert doc["concurrency"]["cancel-in-progress"] is False
    models = sorted(p.stem for p in (root / "models").glob("*.yaml"))
    jobs = doc["jobs"]
    if len(models) > 1:
        assert jobs["model"]["strategy"]["matrix"]["model"] == models
        run = next(s for s in jobs["model"]["steps"] if s.get("name") == "Apply")["run"]
        assert '--target "deployment.${MODEL}"' in run and '--target "stage.${MODEL}"' in run
        assert jobs["project"]["needs"] == "model"
    else:
        assert list(jobs) == ["apply"]
    for job in jobs.values():
        names = [s.get("name") for s in job["steps"]]
        assert names.index("Set the Git identity for registry tags") < names.index("Apply")
        assert names[-1] == "Publish the registry tags"


def test_monitor_workflow_only_with_schedules(rendered: tuple[str, Path, dict[str, str]]) -> None:
    _, root, files = rendered
    schedules = {}
    for p in sorted((root / "models").glob("*.yaml")):
        spec = load_yaml(p.read_text())
        if (spec.get("monitor") or {}).get("schedule"):
            schedules[spec["name"]] = spec["monitor"]["schedule"]
    if not schedules:
        assert MONITOR not in files
        return
    doc = load_yaml(files[MONITOR])
    crons = [c["cron"] for c in doc["on"]["schedule"]]
    assert sorted(crons) == sorted(set(schedules.values()))  # one trigger per distinct cron
    assert "workflow_dispatch" in doc["on"]
    for name, cron in schedules.items():
        job = doc["jobs"][f"drift-{name}"]
        assert f"github.event.schedule == '{cron}'" in job["if"]
        assert job["steps"][-1]["env"]["MODEL"] == name
        # newer labelled data -> retrain proposal; served -> each environment's captured requests; else plain drift
        assert re.search(r'mlopsctl (retrain "\$MODEL"|drift "\$MODEL"( --env "\$ENVIRONMENT" --format markdown)? '
                         r"--fail-on-drift)", job["steps"][-1]["run"])


def test_remote_credentials_follow_the_remote(tmp_path: Path) -> None:
    from workflow_checks import render_workflows

    s3 = render_workflows(multi_model(tmp_path / "s3", schedules=False, remote="s3://b/x"))[PLAN]
    assert "AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}" in s3 and 'DVC_EXTRA: "dvc[s3]"' in s3
    gs = render_workflows(multi_model(tmp_path / "gs", schedules=False, remote="gs://b/x"))[PLAN]
    assert 'export GOOGLE_APPLICATION_CREDENTIALS="$RUNNER_TEMP/gcp-credentials.json"' in gs
    local = render_workflows(make_repo(tmp_path / "local"))[PLAN]
    assert "secrets." not in local and "dvc pull" not in local
    assert "::warning title=mlopsctl::the DVC remote is a local folder" in local


def hand_built(models: dict[str, dict[str, Any]], ci: dict[str, Any] | None = None) -> Project:
    spec = SpecDoc("mlops.yaml", {"name": "demo", "ci": ci or {}, "data": {"remote": {"url": "../r"}}})
    docs = {n: SpecDoc(f"models/{n}.yaml", {"name": n, **d}, lines={"monitor.schedule": (12, 13)})
            for n, d in models.items()}
    return Project(Path("/nonexistent"), spec, docs)


def test_bad_cron_is_a_spec_error_with_location() -> None:
    from mlopsctl.files.workflows import workflow_context

    with pytest.raises(SpecError) as exc:
        workflow_context(hand_built({"iris": {"monitor": {"schedule": "every monday"}}}))
    assert "models/iris.yaml:12:13" in str(exc.value) and "monitor.schedule" in str(exc.value)


def test_defaults_without_a_ci_section() -> None:
    from mlopsctl import __version__
    from mlopsctl.files.workflows import workflow_context

    ctx = workflow_context(hand_built({"iris": {}}))
    assert ctx["ci"] == {"python": "3.11", "install": f"mlopsctl=={__version__}", "default_branch": "main",
                         "runs_on": "ubuntu-latest"}
    assert ctx["schedules"] == [] and ctx["remote"]["local"] is True


def test_workflows_through_the_file_provider(tmp_path: Path) -> None:
    """The registered file set renders through the real provider: create, then nothing to do."""
    from mlopsctl.core.context import Context
    from mlopsctl.core.specs import load_project
    from mlopsctl.providers.file import FileProvider

    root = multi_model(tmp_path, schedules=True, remote="s3://b/x")
    ctx = Context(root=root, project=load_project(root, cache=False))
    provider = FileProvider()
    resources = {r.name: r for r in provider.expand(ctx) if r.name.startswith(".github/")}
    assert sorted(resources) == sorted([PLAN, APPLY, MONITOR])
    for r in resources.values():
        change = provider.diff(r.address, r, provider.read(r.address, r, ctx), ctx)
        assert change.action.value == "create"
        provider.apply(change, ctx)
    ctx = Context(root=root, project=load_project(root, cache=False))
    provider = FileProvider()
    for r in provider.expand(ctx):
        if r.name.startswith(".github/"):
            assert provider.diff(r.address, r, provider.read(r.address, r, ctx), ctx).action.value == "no-op"


def test_self_hosted_runner_labels(tmp_path: Path, lint_workflows: Any) -> None:
    """ci.runs_on (a label or a list) reaches every job that runs mlopsctl, and still lints clean."""
    from mlopsctl.core import ownership
    from mlopsctl.core.context import Context
    from mlopsctl.core.templating import render
    from mlopsctl.files.workflows import files

    project = hand_built({"iris": {"monitor": {"schedule": "0 6 * * 1"}}, "wine": {}},
                         ci={"runs_on": ["self-hosted", "linux"]})
    paths = []
    for mf in files(Context(root=tmp_path, project=project)):
        target = tmp_path / mf.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(ownership.compose(render(mf.template, mf.context), mf.path, mf.template))
        paths.append(mf.path)
        for job_id, job in load_yaml(target.read_text())["jobs"].items():
            expected = "ubuntu-latest" if job_id == "comment" else ["self-hosted", "linux"]
            assert job["runs-on"] == expected, (mf.path, job_id)
    assert sorted(paths) == sorted([PLAN, APPLY, MONITOR])
    lint_workflows(tmp_path, paths)
