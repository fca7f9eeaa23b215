"""The rendered GitHub Actions workflows: linted by actionlint, zizmor and GitHub's JSON Schema for
every scaffold and option combination, and checked for the safety properties they promise."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.errors import SpecError
from mlopsctl.specs.model import Project, SpecDoc
from tests.builders import git, make_repo, model_spec, run_mlopsctl, to_yaml

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
    "two-models-local-remote": lambda p: make_repo(p, models=("iris", "wine")),
    "two-models-ghcr-images": lambda p: make_repo(p, models=("iris", "wine"),
                                                  project={"images": {"repository": "ghcr.io/example"}}),
}
RECORD = "Record training outputs"
PUSH_STEPS = {"Publish the registry tags and the audit records", RECORD, "Log in to ghcr.io (images are pushed there)"}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, dict[str, str]]:
    """One rendered repository per scenario, shared by the tests below (they only read it)."""
    from tests.ci.workflow_checks import render_workflows

    root = SCENARIOS[request.param](tmp_path_factory.mktemp(request.param))
    return request.param, root, render_workflows(root)


def test_checkers_find_nothing(rendered: tuple[str, Path, dict[str, str]], lint_workflows: Any) -> None:
    _, root, files = rendered
    assert PLAN in files and APPLY in files
    lint_workflows(root, sorted(files))


def test_safe_by_construction(rendered: tuple[str, Path, dict[str, str]]) -> None:
    _name, _, files = rendered
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
                # The registry's tags; images too when they go to GitHub's registry.
                assert writes == ({"contents", "packages"} if "ghcr" in _name else {"contents"}), where
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
    assert "mlopsctl plan --train -o mlops.plan --format markdown > plan.md" in plan_runs
    assert "mlopsctl plots --out mlops-plots" in plan_runs
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
    for job_id, job in jobs.items():
        names = [s.get("name") for s in job["steps"]]
        assert names.index("Set the Git identity for registry tags and training records") < names.index("Apply")
        assert names.index("Apply") < names.index("Publish the registry tags and the audit records")
        for step in job["steps"]:
            # The token that can write reaches the push steps (and the ghcr.io login) and nothing else.
            if "github.token" in str(step):
                assert step["name"] in PUSH_STEPS, (job_id, step["name"])
        if job_id == "model":
            # Each model job hands its training records to the project job, which commits them once.
            assert RECORD not in names
            assert names[-2:] == ["Collect training outputs for the project job", "Upload training outputs"]
            upload = job["steps"][-1]
            assert upload["uses"].startswith("actions/upload-artifact@")
            assert upload["with"]["name"] == "mlops-lock-${{ matrix.model }}"
            continue
        assert names[-1] == RECORD
        record = job["steps"][-1]
        assert record["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
        assert record["env"]["BRANCH"] == load_yaml((root / "mlops.yaml").read_text())["ci"]["default_branch"]
        assert '[skip ci]' in record["run"] and 'push --porcelain origin "HEAD:refs/heads/${BRANCH}"' in record["run"]
        assert "--force" not in record["run"] and " -f " not in record["run"]
        if job_id == "project":
            download = names.index("Download the models' training outputs")
            merge = names.index("Merge the models' training outputs")
            assert job["steps"][download]["uses"].startswith("actions/download-artifact@")
            assert job["steps"][download]["with"]["pattern"] == "mlops-lock-*"
            assert download < merge < names.index("Apply")
            assert 'mlopsctl lock merge "$@"' in job["steps"][merge]["run"]
            if any(s.get("name") == "Pull data from the DVC remote" for s in job["steps"]):
                assert merge < names.index("Pull data from the DVC remote")


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
    from tests.ci.workflow_checks import render_workflows

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
    from mlopsctl.ci.workflows import workflow_context

    with pytest.raises(SpecError) as exc:
        workflow_context(hand_built({"iris": {"monitor": {"schedule": "every monday"}}}))
    assert "models/iris.yaml:12:13" in str(exc.value) and "monitor.schedule" in str(exc.value)


def test_defaults_without_a_ci_section() -> None:
    from mlopsctl import __version__
    from mlopsctl.ci.workflows import workflow_context

    ctx = workflow_context(hand_built({"iris": {}}))
    assert ctx["ci"] == {"python": "3.11", "install": f"mlopsctl=={__version__}", "default_branch": "main",
                         "runs_on": "ubuntu-latest"}
    assert ctx["schedules"] == [] and ctx["remote"]["local"] is True


def test_workflows_through_the_file_provider(tmp_path: Path) -> None:
    """The registered file set renders through the real provider: create, then nothing to do."""
    from mlopsctl.core.context import Context
    from mlopsctl.providers.file import FileProvider
    from mlopsctl.specs.load import load_project

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
    from mlopsctl.ci.workflows import files
    from mlopsctl.core.context import Context
    from mlopsctl.files import ownership
    from mlopsctl.files.templating import render

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


# --------------------------------------------------------------------------- the training records


def lock_text(**stages: str) -> str:
    """A dvc.lock as DVC writes it, one stage per model; the value stands for the data digest."""
    body = "".join(
        f"  train_{model}:\n    cmd: mlopsctl train {model}\n    deps:\n    - path: data/{model}.csv\n"
        f"      hash: md5\n      md5: {digest}\n      size: 10\n"
        for model, digest in stages.items()
    )
    return f"schema: '2.0'\nstages:\n{body}"


def dvc_file(digest: str, name: str) -> str:
    return f"outs:\n- md5: {digest}\n  size: 10\n  hash: md5\n  path: {name}\n"


def ci_repos(tmp_path: Path, models: tuple[str, ...]) -> tuple[Path, Path, str]:
    """A bare ``origin`` with the rendered workflows, dvc.lock and .dvc files committed, and a
    runner's clone of it; returns (origin, clone, rendered apply workflow)."""
    from tests.ci.workflow_checks import render_workflows

    files = {"dvc.lock": lock_text(**{m: "0" * 32 for m in models})}
    files.update({f"data/{m}.csv.dvc": dvc_file("0" * 32, f"{m}.csv") for m in models})
    seed = make_repo(tmp_path, models=models, files=files, name="seed")
    workflow = render_workflows(seed)[APPLY]
    for m in models:  # tracked by DVC, as apply leaves it: out of Git's index
        git(seed, "rm", "-q", "--cached", f"data/{m}.csv")
    (seed / "data" / ".gitignore").write_text("".join(f"/{m}.csv\n" for m in models))
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "workflows")
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    clone = tmp_path / "runner"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    return origin, clone, workflow


def ci_env(tmp_path: Path, clone: Path, **extra: str) -> dict[str, str]:
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    return {"GITHUB_TOKEN": "not-a-token", "SERVER_URL": "https://github.invalid", "RUNNER_TEMP": str(temp),
            "GITHUB_SHA": git(clone, "rev-parse", "HEAD"), "GITHUB_REF": "refs/heads/main", **extra}


def test_record_step_commits_everything_apply_wrote(tmp_path: Path) -> None:
    """The single-model record step on a real clone: nothing to do, then every file apply left
    in the runner's checkout committed and pushed (a fresh clone then has a clean `dvc status`);
    ignored files (data pulled from DVC) stay out."""
    from tests.ci.workflow_checks import run_step

    origin, clone, workflow = ci_repos(tmp_path, ("iris",))
    before = git(origin, "rev-parse", "main")
    proc = run_step(workflow, "apply", RECORD, clone, ci_env(tmp_path, clone))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No training outputs to record." in proc.stdout
    assert git(origin, "rev-parse", "main") == before

    # What an apply leaves behind: a retrained stage, a newly tracked dataset (its data file
    # ignored), a regenerated params file; the data pulled from DVC is ignored.
    (clone / "dvc.lock").write_text(lock_text(iris="1" * 32))
    (clone / "data" / "extra.csv.dvc").write_text(dvc_file("2" * 32, "extra.csv"))
    (clone / "data" / "extra.csv").write_text("a,b\n")
    (clone / "data" / ".gitignore").write_text("/iris.csv\n/extra.csv\n")
    (clone / "params").mkdir()
    (clone / "params" / "iris.yaml").write_text("model: iris\n")
    env = ci_env(tmp_path, clone)
    proc = run_step(workflow, "apply", RECORD, clone, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    head = git(origin, "rev-parse", "main")
    assert git(origin, "rev-parse", "main^") == before
    assert git(origin, "diff", "--name-only", f"{before}..{head}").splitlines() == [
        "data/.gitignore", "data/extra.csv.dvc", "dvc.lock", "params/iris.yaml"]
    assert git(origin, "log", "-1", "--format=%s", "main") == (
        f"mlopsctl: record training outputs of {env['GITHUB_SHA'][:7]} [skip ci]")
    assert git(origin, "show", "main:dvc.lock") == lock_text(iris="1" * 32).rstrip("\n")

    # apply registered a version: it made the record commit itself (the one the tag names); the
    # step pushes it, and commits nothing more when apply left nothing else.
    (clone / "dvc.lock").write_text(lock_text(iris="4" * 32))
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "mlopsctl: record training outputs of iris v1 [skip ci]")
    proc = run_step(workflow, "apply", RECORD, clone, ci_env(tmp_path, clone, GITHUB_SHA=head))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(origin, "rev-parse", "main") == git(clone, "rev-parse", "HEAD")
    assert git(origin, "rev-parse", "main^") == head


def test_record_step_never_forces_and_stays_on_the_default_branch(tmp_path: Path) -> None:
    from tests.ci.workflow_checks import run_step

    origin, clone, workflow = ci_repos(tmp_path, ("iris",))
    # Someone pushed while this run trained: the record is not pushed, the run still succeeds.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    (other / "README.md").write_text("newer\n")
    git(other, "add", "README.md")
    git(other, "commit", "-q", "-m", "newer")
    git(other, "push", "-q", "origin", "main")
    moved = git(origin, "rev-parse", "main")
    (clone / "dvc.lock").write_text(lock_text(iris="1" * 32))
    proc = run_step(workflow, "apply", RECORD, clone, ci_env(tmp_path, clone))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "::warning title=mlopsctl::main moved during this run" in proc.stdout
    assert git(origin, "rev-parse", "main") == moved

    # Started by hand on another branch: the default branch is never moved from there.
    proc = run_step(workflow, "apply", RECORD, clone, ci_env(tmp_path, clone, GITHUB_REF="refs/heads/feature"))
    assert proc.returncode == 0 and "training outputs are not recorded" in proc.stdout
    assert git(origin, "rev-parse", "main") == moved

    # A push the server refuses (branch protection) fails the step and says why.
    git(clone, "fetch", "-q", "origin")
    git(clone, "reset", "-q", "--hard", "origin/main")
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
    hook.chmod(0o755)
    (clone / "dvc.lock").write_text(lock_text(iris="3" * 32))
    proc = run_step(workflow, "apply", RECORD, clone, ci_env(tmp_path, clone))
    assert proc.returncode == 1
    assert "::error title=mlopsctl::could not push the training outputs to main" in proc.stdout


def test_model_jobs_hand_their_records_to_the_project_job(tmp_path: Path) -> None:
    """Collect (per model job) and merge (project job) on real clones, artifacts laid out as
    download-artifact does: one folder per artifact, or flat for a single one."""
    from tests.ci.workflow_checks import mlopsctl_path, run_step

    _, clone, workflow = ci_repos(tmp_path, ("iris", "wine"))
    jobs: dict[str, Path] = {}
    for model, digest in (("iris", "1" * 32), ("wine", "2" * 32)):
        job = tmp_path / f"job-{model}"
        git(tmp_path, "clone", "-q", str(clone), str(job))
        lock = lock_text(iris="0" * 32, wine="0" * 32).replace(f"train_{model}:\n    cmd: mlopsctl train {model}\n"
                                                               f"    deps:\n    - path: data/{model}.csv\n"
                                                               f"      hash: md5\n      md5: {'0' * 32}",
                                                               f"train_{model}:\n    cmd: mlopsctl train {model}\n"
                                                               f"    deps:\n    - path: data/{model}.csv\n"
                                                               f"      hash: md5\n      md5: {digest}")
        (job / "dvc.lock").write_text(lock)
        (job / "data" / f"{model}.csv.dvc").write_text(dvc_file(digest, f"{model}.csv"))
        (job / "notes.txt").write_text("not a record\n")
        temp = tmp_path / f"temp-{model}"
        temp.mkdir()
        proc = run_step(workflow, "model", "Collect training outputs for the project job", job,
                        {"RUNNER_TEMP": str(temp)})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        collected = sorted(str(p.relative_to(temp / "mlops-lock")) for p in (temp / "mlops-lock").rglob("*")
                           if p.is_file())
        assert collected == sorted(["dvc.lock", f"data/{model}.csv.dvc"])
        jobs[model] = temp / "mlops-lock"

    temp = tmp_path / "temp-project"
    for model, collected in jobs.items():
        shutil.copytree(collected, temp / "mlops-locks" / f"mlops-lock-{model}")
    env = {"RUNNER_TEMP": str(temp), "PATH": mlopsctl_path()}
    proc = run_step(workflow, "project", "Merge the models' training outputs", clone, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (clone / "dvc.lock").read_text() == lock_text(iris="1" * 32, wine="2" * 32)
    assert (clone / "data" / "wine.csv.dvc").read_text() == dvc_file("2" * 32, "wine.csv")
    assert "2 stage records merged" in proc.stdout

    # One artifact only: download-artifact unpacks it without its folder.
    git(clone, "checkout", "-q", "--", ".")
    flat = tmp_path / "temp-flat"
    shutil.copytree(jobs["iris"], flat / "mlops-locks")
    proc = run_step(workflow, "project", "Merge the models' training outputs", clone,
                    {"RUNNER_TEMP": str(flat), "PATH": env["PATH"]})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (clone / "dvc.lock").read_text() == lock_text(iris="1" * 32, wine="0" * 32)


def test_apply_logs_in_to_ghcr_with_the_repository_token(rendered: tuple[str, Path, dict[str, str]]) -> None:
    name, _, texts = rendered
    apply = load_yaml(texts[APPLY])
    for job in apply["jobs"].values():
        login = [s for s in job["steps"] if str(s.get("name", "")).startswith("Log in to ghcr.io")]
        if name != "two-models-ghcr-images":
            assert login == [] and "packages" not in job["permissions"]
            continue
        assert job["permissions"]["packages"] == "write"
        [step] = login
        assert step["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}
        assert "--password-stdin" in step["run"] and "$GITHUB_TOKEN" in step["run"]
