"""``mlopsctl new`` at the library level: a real Git repository, real data, real specs."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlopsctl.errors import MlopsError
from mlopsctl.scaffold.repo import project_name_for, render_files, scaffold

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "iris"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (not .git) -> its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def load_yaml(path: Path) -> dict:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_classifier_repository(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    done = scaffold(root)
    assert (done.model, done.project) == ("iris", "demo")

    # One commit on main, a clean tree, and everything but the data in Git.
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(root, "rev-list", "--count", "HEAD") == "1"
    assert git(root, "rev-parse", "HEAD") == done.commit
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "ls-files").splitlines() == [
        ".gitignore",
        "README.md",
        "data/.gitignore",
        "mlops.yaml",
        "models/iris.yaml",
    ]
    # The CSV is on disk, ignored exactly as `dvc add` would ignore it.
    assert (root / "data/.gitignore").read_text() == "/iris.csv\n"
    assert git(root, "check-ignore", "data/iris.csv") == "data/iris.csv"
    assert ".mlopsctl/" in (root / ".gitignore").read_text().splitlines()

    with open(root / "data/iris.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 150
    assert list(rows[0]) == ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    assert rows[0] == {
        "sepal_length": "5.1",
        "sepal_width": "3.5",
        "petal_length": "1.4",
        "petal_width": "0.2",
        "species": "setosa",
    }
    assert {r["species"] for r in rows} == {"setosa", "versicolor", "virginica"}

    project = load_yaml(root / "mlops.yaml")
    assert project["name"] == "demo"
    assert project["environments"] == {"staging": {"port": 8101}, "production": {"port": 8102}}
    assert project["data"]["remote"]["url"] == "../demo-dvc-remote"
    model = load_yaml(root / "models/iris.yaml")
    assert model["data"] == {"path": "data/iris.csv", "target": "species"}
    assert model["features"]["petal_width"] == {"type": "float", "min": 0}
    assert model["estimator"] == {
        "class": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 100, "random_state": 0},
    }
    assert model["gates"] == {"accuracy": ">= 0.9"}
    assert model["serve"] == {"staging": {"version": "latest"}}
    assert model["monitor"]["schedule"] == "0 6 * * 1"


def test_regressor_repository(tmp_path: Path) -> None:
    root = tmp_path / "reg"
    done = scaffold(root, "regressor")
    assert done.model == "diabetes"
    with open(root / "data/diabetes.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 442
    assert list(rows[0]) == ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "progression"]
    assert rows[0]["age"] == "59" and rows[0]["bmi"] == "32.1" and rows[0]["progression"] == "151"
    model = load_yaml(root / "models/diabetes.yaml")
    assert model["task"] == "regression"
    assert model["data"] == {"path": "data/diabetes.csv", "target": "progression"}
    assert list(model["features"]) == ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    assert model["features"]["age"] == {"type": "int", "min": 0}
    assert model["features"]["s5"] == {"type": "float", "min": 0}
    assert model["estimator"]["class"] == "sklearn.ensemble.RandomForestRegressor"
    assert model["gates"] == {"r2": ">= 0.3"}
    assert git(root, "check-ignore", "data/diabetes.csv") == "data/diabetes.csv"


def test_custom_name_and_project_name(tmp_path: Path) -> None:
    root = tmp_path / "My Flowers"
    done = scaffold(root, name="flowers_v2")
    assert (done.model, done.project) == ("flowers_v2", "my-flowers")
    assert (root / "models/flowers_v2.yaml").is_file()
    assert (root / "data/flowers_v2.csv").is_file()
    assert (root / "data/.gitignore").read_text() == "/flowers_v2.csv\n"
    assert load_yaml(root / "mlops.yaml")["data"]["remote"]["url"] == "../My Flowers-dvc-remote"
    assert project_name_for(Path("/x/__"), "a_b") == "a-b"


def test_names_yaml_would_misread_stay_strings(tmp_path: Path) -> None:
    scaffold(tmp_path / "null", name="123")
    assert load_yaml(tmp_path / "null/mlops.yaml")["name"] == "null"
    assert load_yaml(tmp_path / "null/models/123.yaml")["name"] == "123"


def test_same_arguments_same_bytes(tmp_path: Path) -> None:
    a = tmp_path / "a" / "demo"
    b = tmp_path / "b" / "demo"
    scaffold(a, "regressor")
    scaffold(b, "regressor")
    assert tree(a) == tree(b)
    assert render_files(a, "regressor") == render_files(b, "regressor")


def test_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    root = tmp_path / "busy"
    root.mkdir()
    (root / "notes.txt").write_text("mine\n")
    with pytest.raises(MlopsError, match=r"busy is not empty \(notes.txt\).*nothing was written"):
        scaffold(root)
    assert tree(root) == {"notes.txt": b"mine\n"}
    assert not (root / ".git").exists()


def test_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(MlopsError, match="exists and is not a directory"):
        scaffold(target)
    assert target.read_text() == "x"


def test_empty_directory_is_fine(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    scaffold(root)
    assert (root / "mlops.yaml").is_file()


@pytest.mark.parametrize(
    ("template", "name", "message"),
    [("classifier", "Bad Name", "invalid model name 'Bad Name'"), ("forecaster", None, "unknown template")],
)
def test_bad_arguments_write_nothing(tmp_path: Path, template: str, name: str | None, message: str) -> None:
    with pytest.raises(MlopsError, match=message):
        scaffold(tmp_path / "x", template, name)
    assert not (tmp_path / "x").exists()


def test_commits_without_any_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare CI machine: no global config, no identity in the environment."""
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = tmp_path / "demo"
    scaffold(root)
    assert git(root, "config", "--local", "user.name") == "mlopsctl"
    assert git(root, "log", "-1", "--format=%an <%ae>") == "mlopsctl <mlopsctl@localhost>"


def test_keeps_a_configured_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key, raising=False)
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Ada\n\temail = ada@example.org\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    root = tmp_path / "demo"
    scaffold(root)
    local = subprocess.run(["git", "config", "--local", "user.name"], cwd=root, capture_output=True, check=False)
    assert local.returncode == 1
    assert git(root, "log", "-1", "--format=%an <%ae>") == "Ada <ada@example.org>"


def test_failed_commit_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    hook = hooks / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    with pytest.raises(MlopsError, match="git commit .*failed.*refused by policy"):
        scaffold(tmp_path / "demo")
    assert not (tmp_path / "demo").exists()
    (tmp_path / "kept").mkdir()
    with pytest.raises(MlopsError):
        scaffold(tmp_path / "kept")
    assert list((tmp_path / "kept").iterdir()) == []  # the empty directory it was given stays, empty


def test_bundled_example_is_what_new_writes(tmp_path: Path) -> None:
    scaffold(tmp_path / "iris", "classifier", "iris")
    fresh = tree(tmp_path / "iris")
    example = tree(EXAMPLE)
    # The CSV is data for DVC, git-ignored in the example too: a checkout may lack it.
    optional = {"data/iris.csv"}
    assert set(example) - optional == set(fresh) - optional, "examples/iris lists other files (see examples/README.md)"
    for rel, content in example.items():
        assert content == fresh[rel], f"examples/iris/{rel} is stale: regenerate it (see examples/README.md)"


def test_scaffolded_specs_validate(tmp_path: Path) -> None:
    specs = pytest.importorskip("mlopsctl.specs.load")
    for template in ("classifier", "regressor"):
        root = tmp_path / template
        done = scaffold(root, template)
        project = specs.load_project(root)
        assert project.name == template
        assert list(project.models) == [done.model]
        assert set(project.environments) == {"staging", "production"}


def test_default_models_pass_their_gates_comfortably(tmp_path: Path) -> None:
    """The first apply must register a version: the scaffold's gates have a margin."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.model_selection import KFold, cross_val_score, train_test_split

    scaffold(tmp_path / "c")
    with open(tmp_path / "c/data/iris.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    x = [[float(v) for v in r[:4]] for r in rows]
    y = [r[4] for r in rows]
    xa, xb, ya, yb = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    accuracy = RandomForestClassifier(n_estimators=100, random_state=0).fit(xa, ya).score(xb, yb)
    assert accuracy >= 0.9 + 0.03

    scaffold(tmp_path / "r", "regressor")
    with open(tmp_path / "r/data/diabetes.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    x = [[float(v) for v in r[:10]] for r in rows]
    y = [float(r[10]) for r in rows]
    for shuffle in (True, False):  # whichever way the folds are drawn
        folds = KFold(5, shuffle=shuffle, random_state=0 if shuffle else None)
        r2 = cross_val_score(RandomForestRegressor(n_estimators=100, random_state=0), x, y, cv=folds).mean()
        assert r2 >= 0.3 + 0.05


def test_importing_the_scaffold_stays_light() -> None:
    code = "import sys, mlopsctl.scaffold.repo, mlopsctl.commands.new; print(sorted(m for m in ('sklearn', 'jinja2', 'git', 'dvc') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
