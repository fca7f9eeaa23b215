"""Spec values cannot escape the file they land in.

Two walls, each tested with the corpus in injection_corpus.py:

- the templates: every template under templates/ is rendered with each hostile value in each
  place a spec value reaches (bypassing the schemas); the render is refused (UnsafeValue) or has
  exactly the structure of a clean render (same lines, keys, steps, scripts, instructions) and
  the value reads back as itself;
- the specs: through the CLI on real repositories, values that break lines are refused by
  ``validate`` at their file:line, and accepted hostile values give workflows that actionlint,
  zizmor and GitHub's schema pass and that parse to the clean structure.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.files.escape import UnsafeValue
from mlopsctl.files.templating import render
from mlopsctl.workspace import paths
from tests.builders import deep_merge, make_repo, model_spec, run_mlopsctl, to_yaml
from tests.ci.workflow_checks import lint, render_workflows
from tests.files.injection_corpus import (
    ACCEPTED,
    GH_EXPRESSION,
    REFUSED,
    docker_labels,
    dockerfile_instructions,
    load_yaml,
    load_yaml_fast,
    markdown_skeleton,
    python_code,
    runs,
    shape,
)

CORPUS = {**ACCEPTED, **REFUSED, "github expression": GH_EXPRESSION}
Path_ = tuple[Any, ...]


def _set(ctx: dict[str, Any], path: Path_, value: Any) -> None:
    node: Any = ctx
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _render_or_refuse(template: str, ctx: dict[str, Any]) -> str | None:
    try:
        return render(template, ctx)
    except UnsafeValue as e:
        assert f"templates/{template}" in str(e)
        return None


# ----------------------------------------------------------------------------- contexts


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Two served models on a schedule, an S3 remote: every branch of every template taken."""
    from mlopsctl.specs.load import load_project

    tmp = tmp_path_factory.mktemp("inject")
    serve = {"serve": {"staging": {"version": "latest"}}}
    files = {
        "models/iris.yaml": to_yaml(model_spec("iris", monitor={"schedule": "0 6 * * 1"}, **serve)),
        # Its own port: two deployments on one address are a spec error.
        "models/wine.yaml": to_yaml(model_spec("wine", monitor={"schedule": "0 6 * * 1", "retrain": {
            "data": "incoming/wine.csv"}}, serve={"staging": {"version": "latest", "port": 8109}})),
    }
    root = make_repo(tmp, models=("iris", "wine"), files=files,
                     project={"data": {"remote": {"name": "r", "url": "s3://bucket/ml"}},
                              "ci": {"runs_on": ["self-hosted", "linux"]}})
    return load_project(root, cache=False)


WORKFLOW_LEAVES: list[Path_] = [
    ("project",), ("ci", "python"), ("ci", "install"), ("ci", "default_branch"), ("ci", "runs_on", 0),
    ("remote", "url"), ("models", 0, "name"), ("models", 1, "name"), ("models", 0, "drift_envs", 0),
    ("schedules", 0, "cron"), ("models", 0, "schedule"),
]


def _workflow_ctx(project: Any, local: bool) -> dict[str, Any]:
    from mlopsctl.ci.workflows import remote_context, workflow_context

    ctx = copy.deepcopy(workflow_context(project))
    ctx["models"][0]["retrain"] = False
    ctx["models"][0]["drift_envs"] = ["staging"]
    if local:  # the local-remote variant writes the URL into a comment
        ctx["remote"] = remote_context("../remote")
    return ctx


def _check_yaml(clean: str, dirty: str, value: str, workflow: bool) -> None:
    a, b = load_yaml_fast(clean), load_yaml_fast(dirty)
    assert shape(b) == shape(a)
    if workflow:
        assert runs(b) == runs(a), "a value changed a run: script"
        assert dirty.count("${{") == clean.count("${{"), "a value added a GitHub expression"


@pytest.mark.parametrize("template", ["workflows/plan.yml.j2", "workflows/apply.yml.j2", "workflows/monitor.yml.j2"])
@pytest.mark.parametrize("local", [False, True], ids=["s3", "local"])
def test_workflow_templates_keep_their_structure(project: Any, template: str, local: bool) -> None:
    base = _workflow_ctx(project, local)
    clean = render(template, base)
    for leaf in WORKFLOW_LEAVES:
        for name, value in CORPUS.items():
            ctx = copy.deepcopy(base)
            _set(ctx, leaf, value)
            if leaf == ("models", 0, "schedule"):  # the job's if: and the on.schedule cron agree
                ctx["schedules"][0]["cron"] = value
            dirty = _render_or_refuse(template, ctx)
            if dirty is None:
                continue
            assert len(dirty.splitlines()) == len(clean.splitlines()), (leaf, name)
            _check_yaml(clean, dirty, value, workflow=True)
            if value in REFUSED.values():
                # Only a YAML comment may hold them, and only with the line break taken out.
                assert value not in dirty, (leaf, name)


def _docker_ctx(project: Any) -> dict[str, Any]:
    from mlopsctl.serving.files import template_context

    return copy.deepcopy(template_context(project, "iris"))


BASES = {
    "official": {"base": "python:3.11-slim", "python_default": "3.11", "python_variant": "-slim"},
    "local": {"base": "mlopsctl/base:bookworm", "python_default": None, "python_variant": None},
}


@pytest.mark.parametrize("kind", sorted(BASES))
def test_dockerfile_keeps_its_instructions(project: Any, kind: str) -> None:
    base = {**_docker_ctx(project), **BASES[kind]}
    clean = render("docker/Dockerfile.j2", base)
    want = dockerfile_instructions(clean)
    leaves = [("project",), ("model",)] + [(k,) for k, v in BASES[kind].items() if v is not None]
    for leaf in leaves:
        for name, value in CORPUS.items():
            ctx = copy.deepcopy(base)
            _set(ctx, leaf, value)
            dirty = _render_or_refuse("docker/Dockerfile.j2", ctx)
            if dirty is None:
                continue
            got = dockerfile_instructions(dirty)
            assert [w for w, _ in got] == [w for w, _ in want], (leaf, name)
            for (w, args), (_, clean_args) in zip(got, want, strict=True):
                if w not in ("FROM", "LABEL", "ARG"):
                    assert args == clean_args, (leaf, name)
                if w == "LABEL":
                    labels = docker_labels(args)
                    assert labels.keys() == docker_labels(clean_args).keys()
                    assert labels["mlopsctl.project"] == ctx["project"]
                    assert labels["mlopsctl.model"] == ctx["model"]


@pytest.mark.parametrize("template", ["docker/serve.py.j2", "docker/requirements.txt.j2", "docker/capture.py.j2"])
def test_serving_files_keep_their_code(project: Any, template: str) -> None:
    base = _docker_ctx(project)
    clean = render(template, base)
    for leaf in [("project",), ("model",)]:
        for name, value in CORPUS.items():
            ctx = copy.deepcopy(base)
            _set(ctx, leaf, value)
            dirty = _render_or_refuse(template, ctx)
            if dirty is None:
                continue
            assert len(dirty.splitlines()) == len(clean.splitlines()), (leaf, name)
            if template.endswith(".py.j2"):
                assert python_code(dirty) == python_code(clean), (leaf, name)
            else:
                strip = [ln for ln in dirty.splitlines() if not ln.startswith("#")]
                assert strip == [ln for ln in clean.splitlines() if not ln.startswith("#")]


def _poison_strings(data: Any, value: str) -> Any:
    """Every string value in ``data`` replaced by a distinct variant of ``value`` (keys are mlopsctl's)."""
    counter = iter(range(10**6))

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return f"{value}{next(counter)}" if isinstance(v, str) else v

    return walk(data)


@pytest.mark.parametrize("template", ["pipeline/dvc.yaml.j2", "pipeline/params.yaml.j2"])
def test_pipeline_files_read_back_exactly(project: Any, template: str) -> None:
    from mlopsctl.pipeline.files import dump_yaml
    from mlopsctl.pipeline.stages import dvc_yaml, stage_def

    defs = [stage_def(n, project.models[n].data, project.models[n].path) for n in sorted(project.models)]
    data = dvc_yaml(defs) if template.endswith("dvc.yaml.j2") else defs[0].params
    clean = render(template, {"model": "iris", "spec": "models/iris.yaml", "body": dump_yaml(data)})
    for name, value in CORPUS.items():
        dirty_data = _poison_strings(data, value)
        try:
            ctx = {"model": value, "spec": f"models/{value}.yaml", "body": dump_yaml(dirty_data)}
        except UnsafeValue:
            assert name == "lone surrogate"
            continue
        dirty = _render_or_refuse(template, ctx)
        assert dirty is not None
        assert load_yaml(dirty) == dirty_data, name
        assert shape(load_yaml(dirty)) == shape(load_yaml(clean))


def test_model_card_keeps_its_tables() -> None:
    from mlopsctl.registry.card import render_card
    from mlopsctl.registry.state import ModelVersion

    def card(value: str) -> str:
        fields = {f.name for f in __import__("dataclasses").fields(ModelVersion)}
        kw: dict[str, Any] = {
            "model": "iris", "version": 1, "tag": "iris@v1.0.0", "commit": "abc", "created_at": "now",
            "metrics": {value: 0.9}, "artifact_path": value, "artifact_md5": "m", "artifact_sha256": "s",
            "lineage": {"target": value, "estimator": value, "classes": [value, "b"], "train_cmd": value,
                        "params": {value: value, "n": 1}, "data": {"path": value, "rows": 3},
                        "features": {value: {"type": "float", "values": [value]}}},
        }
        return render_card(ModelVersion(**{k: v for k, v in kw.items() if k in fields}), [value, "prod"])

    clean = card("plain")
    for name, value in CORPUS.items():
        dirty = card(value)
        assert markdown_skeleton(dirty) == markdown_skeleton(clean), name
        assert len(dirty.splitlines()) == len(clean.splitlines()), name


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_scaffold_writes_hostile_folder_names_as_values(tmp_path: Path, name: str) -> None:
    from mlopsctl.scaffold.repo import render_files

    folder = ACCEPTED[name].replace("/", "_")[:200]
    clean = render_files(tmp_path / "plain")
    dirty = render_files(tmp_path / folder)
    doc = load_yaml(dirty["mlops.yaml"])
    assert shape(doc) == shape(load_yaml(clean["mlops.yaml"]))
    assert doc["data"]["remote"]["url"] == f"../{folder}-dvc-remote"
    assert markdown_skeleton(dirty["README.md"]) == markdown_skeleton(clean["README.md"])


def test_every_template_is_in_the_corpus() -> None:
    """A new template must get a test here: spec values may reach it."""
    covered = {
        "workflows/plan.yml.j2", "workflows/apply.yml.j2", "workflows/monitor.yml.j2", "workflows/_common.j2",
        "docker/Dockerfile.j2", "docker/serve.py.j2", "docker/requirements.txt.j2", "docker/capture.py.j2",
        "pipeline/dvc.yaml.j2", "pipeline/params.yaml.j2", "model_card.md.j2",
        # scaffold: its only outside value is the folder name (above); --name and --base-image are checked.
        "scaffold/_common/README.md.j2", "scaffold/_common/gitignore.j2", "scaffold/_common/mlops.yaml.j2",
        "scaffold/classifier/model.yaml.j2", "scaffold/regressor/model.yaml.j2",
    }
    found = {str(p.relative_to(paths.TEMPLATES)) for p in Path(paths.TEMPLATES).rglob("*.j2")}
    assert found == covered


# ----------------------------------------------------------------------------- through the specs

PROJECT_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "name": lambda v: {"name": v},
    "data.remote.name": lambda v: {"data": {"remote": {"name": v}}},
    "data.remote.url": lambda v: {"data": {"remote": {"url": v}}},
    "images.base": lambda v: {"images": {"base": v}},
    "images.ca_certificates.0": lambda v: {"images": {"ca_certificates": [v]}},
    "ci.python": lambda v: {"ci": {"python": v}},
    "ci.install": lambda v: {"ci": {"install": v}},
    "ci.default_branch": lambda v: {"ci": {"default_branch": v}},
    "ci.runs_on.0": lambda v: {"ci": {"runs_on": [v]}},
}
MODEL_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "name": lambda v: {"name": v},
    "data.path": lambda v: {"data": {"path": v}},
    "data.target": lambda v: {"data": {"target": v}},
    "estimator.class": lambda v: {"estimator": {"class": v}},
    "train.cmd": lambda v: {"train": {"cmd": v, "deps": ["src"]}},
    "monitor.schedule": lambda v: {"monitor": {"schedule": v, "retrain": {"data": "incoming/x.csv"}}},
}
MODEL_LISTS: dict[str, Callable[[str], dict[str, Any]]] = {
    "train.deps.0": lambda v: {"train": {"cmd": "python train.py", "deps": [v]}},
    "train.outs.0": lambda v: {"train": {"cmd": "python train.py", "outs": [v]}},
    "monitor.retrain.data": lambda v: {"monitor": {"retrain": {"data": v}}},
    "metrics.0": lambda v: {"metrics": [v]},
}


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in parts:
        out = deep_merge(out, p)
    return out


def _located(out: str, root: Path, file: str, path: str) -> None:
    m = re.search(rf"^{re.escape(file)}:(\d+):\d+: {re.escape(path)}: ", out, re.MULTILINE)
    assert m, f"no located problem for {file} {path} in:\n{out}"
    line = (root / file).read_text(encoding="utf-8").splitlines()[int(m.group(1)) - 1]
    key = path.split(".")[-1]
    assert key in line or line.lstrip().startswith("- "), f"{file}:{m.group(1)} is not {path}: {line!r}"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_validate_refuses_line_breaking_values_with_their_location(tmp_path: Path, name: str) -> None:
    value = REFUSED[name]
    # Two groups, so conflicting values (train.deps vs train.cmd) each get their own document.
    for group in (0, 1):
        fields = dict(list(MODEL_FIELDS.items()) if group == 0 else list(MODEL_LISTS.items()))
        spec = deep_merge(model_spec("iris"), _merge([f(value) for f in fields.values()]))
        root = make_repo(tmp_path / str(group), project=_merge([f(value) for f in PROJECT_FIELDS.values()]),
                         files={"models/iris.yaml": to_yaml(spec)})
        proc = run_mlopsctl(["validate"], root)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 1 and "unexpected" not in out and "Traceback" not in out, out
        if group == 0:
            for path in PROJECT_FIELDS:
                _located(out, root, "mlops.yaml", path)
        for path in fields:
            _located(out, root, "models/iris.yaml", path)


@pytest.mark.slow
def test_validate_refuses_github_expressions_in_workflow_values(tmp_path: Path) -> None:
    fields = ["data.remote.url", "ci.install", "ci.default_branch", "ci.runs_on.0"]
    root = make_repo(tmp_path, project=_merge([PROJECT_FIELDS[f](GH_EXPRESSION) for f in fields]))
    proc = run_mlopsctl(["validate"], root)
    assert proc.returncode == 1, proc.stdout
    for path in fields:
        _located(proc.stdout + proc.stderr, root, "mlops.yaml", path)


def _branch(value: str) -> str:
    """The value as a Git branch name may have it (check-ref-format: no spaces, ~^:?*[\\, '.', '@{')."""
    return re.sub(r"[\s~^:?*\[\\./@]", "_", value)[:200].lstrip("-") or "b"


@pytest.mark.slow
@pytest.mark.parametrize("remote", ["s3://bucket/", "../"])
def test_accepted_hostile_values_give_clean_linted_workflows(tmp_path: Path, remote: str) -> None:
    def repo(sub: str, value: str | None) -> tuple[Path, dict[str, str]]:
        project = {"data": {"remote": {"name": "r", "url": remote + "ml"}}, "ci": {"runs_on": ["lab", "linux"]}}
        if value is not None:
            project = {
                "data": {"remote": {"name": "r", "url": remote + value}},
                "ci": {"install": value, "default_branch": _branch(value), "runs_on": [value, "linux"]},
            }
        files = {"models/iris.yaml": to_yaml(model_spec("iris", monitor={"schedule": "0 6 * * 1"}))}
        root = make_repo(tmp_path / sub, project=project, files=files)
        # actionlint checks runner labels against GitHub's; a self-hosted label is declared here
        # (as a glob pattern: its metacharacters escaped).
        label = re.sub(r"([\\*?\[])", r"\\\1", value if value is not None else "lab")
        (root / ".github").mkdir()
        (root / ".github" / "actionlint.yaml").write_text(to_yaml({"self-hosted-runner": {"labels": [label]}}))
        return root, render_workflows(root)

    _, clean = repo("clean", None)
    for i, (name, value) in enumerate(ACCEPTED.items()):
        root, dirty = repo(f"v{i}", value)
        assert sorted(dirty) == sorted(clean)
        lint(root, sorted(dirty))
        for path, text in dirty.items():
            a, b = load_yaml(clean[path]), load_yaml(text)
            assert shape(b) == shape(a), (name, path)
            assert runs(b) == runs(a), (name, path)
            for job_id, job in b["jobs"].items():
                # The comment job talks to GitHub only: always a hosted runner.
                assert job["runs-on"] == ("ubuntu-latest" if job_id == "comment" else [value, "linux"]), name
        plan = load_yaml(dirty[".github/workflows/mlops-plan.yml"])
        # A filter pattern: glob characters escaped, so it matches exactly that branch.
        assert plan["on"]["pull_request"]["branches"] == [re.sub(r"([*?+!\[\\])", r"\\\1", _branch(value))]
        apply = load_yaml(dirty[".github/workflows/mlops-apply.yml"])
        record = [s for j in apply["jobs"].values() for s in j["steps"] if s.get("name") == "Record training outputs"]
        assert [s["env"]["BRANCH"] for s in record] == [_branch(value)], name
        install = [s["env"]["MLOPSCTL_INSTALL"] for s in plan["jobs"]["plan"]["steps"] if "MLOPSCTL_INSTALL" in
                   (s.get("env") or {})]
        assert install == [value], name
        assert os.environ.get("PWNED") is None
