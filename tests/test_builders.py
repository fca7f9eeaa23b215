"""The shared builders and fixtures do what every other test relies on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlopsctl import __version__
from mlopsctl.workspace.paths import SCHEMAS
from tests.builders import git, iris_like_csv, make_repo, model_spec, project_spec, to_yaml, write_tree


def _load_yaml(path: Path) -> object:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_make_repo_writes_committed_specs_and_data(tmp_path: Path) -> None:
    root = make_repo(tmp_path, models=("iris", "wine"), files={"src/extra.py": "X = 1\n", "blob.bin": b"\x00\x01"})

    assert _load_yaml(root / "mlops.yaml") == project_spec()
    assert _load_yaml(root / "models/wine.yaml") == model_spec("wine")
    assert (root / "blob.bin").read_bytes() == b"\x00\x01"
    assert git(root, "status", "--porcelain") == ""  # everything committed
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    tracked = set(git(root, "ls-files").splitlines())
    assert {"mlops.yaml", "models/iris.yaml", "data/iris.csv", "data/wine.csv", "src/extra.py"} <= tracked
    header, *rows = (root / "data/iris.csv").read_text().splitlines()
    assert header.split(",")[-1] == "species" and len(rows) == 90


def test_overrides_merge_and_remove_keys(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path,
        commit=False,
        project={"environments": {"production": None}},
        model={"gates": {"accuracy": ">= 0.95"}, "split": None, "serve": {"staging": {"version": "latest"}}},
    )
    project = _load_yaml(root / "mlops.yaml")
    model = _load_yaml(root / "models/iris.yaml")
    assert isinstance(project, dict) and isinstance(model, dict)
    assert project["environments"] == {"staging": {"port": 8101}}
    assert model["gates"] == {"accuracy": ">= 0.95"} and "split" not in model
    assert model["serve"] == {"staging": {"version": "latest"}}
    assert git(root, "status", "--porcelain") != ""  # not committed


@pytest.mark.parametrize("value", ["yes", "3.11", ">= 0.9", "a: b", "#x", "", "null", "x\ny", "é"])
def test_to_yaml_round_trips_awkward_strings(tmp_path: Path, value: str) -> None:
    doc = {"k": value, "list": [value, {"inner": value}], "odd key: x": [1, 2.5, True, None]}
    write_tree(tmp_path, {"doc.yaml": to_yaml(doc)})
    assert _load_yaml(tmp_path / "doc.yaml") == doc


def test_iris_like_csv_is_deterministic() -> None:
    assert iris_like_csv(seed=3) == iris_like_csv(seed=3) != iris_like_csv(seed=4)


def test_generated_specs_follow_the_schemas() -> None:
    """The builders must stay in step with the contract in schemas/."""
    import jsonschema

    project_schema, model_schema = SCHEMAS / "project.schema.json", SCHEMAS / "model.schema.json"
    jsonschema.validate(project_spec(), json.loads(project_schema.read_text()))
    model = json.loads(model_schema.read_text())
    jsonschema.validate(model_spec("iris"), model)
    jsonschema.validate(model_spec("iris", serve={"staging": {"version": "latest"}}), model)


def test_generated_repo_loads_without_problems(tmp_path: Path) -> None:
    """What the loader accepts is the real contract (cross-spec checks included)."""
    from mlopsctl.specs import load as specs

    root = make_repo(tmp_path, models=("iris", "wine"))
    project = specs.load_project(root)
    assert sorted(project.models) == ["iris", "wine"]
    assert project.name == "demo"


def test_cli_fixture_runs_through_the_error_handler(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("--version")
    assert result.exit_code == 0 and __version__ in result.stdout
    unknown = cli("no-such-command")
    assert unknown.exit_code == 1 and "no-such-command" in unknown.stderr


def test_run_mlopsctl_uses_the_real_console_script(run_mlopsctl, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc = run_mlopsctl(["--version"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert __version__ in proc.stdout


def test_git_identity_is_fixed(repo: Path) -> None:
    assert git(repo, "log", "-1", "--format=%an <%ae>") == "mlopsctl tests <tests@mlopsctl.invalid>"
