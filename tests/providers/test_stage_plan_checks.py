"""A plan that would rerun a training stage still refuses bad params and bad data at their
file:line, without importing the ML stack when it can tell without it.

Real processes (the console script, DVC), as users run them: which modules a plan imported is
read from Python's import-time log, as tests/test_packaging.py does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import git, make_repo, run_mlopsctl
from tests.pipeline.dvcrepos import dvc
from tests.test_packaging import imported_modules

pytestmark = pytest.mark.slow

ML = {"sklearn", "pandas", "numpy", "scipy"}
TABLE = ".mlopsctl/cache/estimators.json"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model trained by the built-in trainer and recorded by DVC: a plan is a no-op for its stage."""
    from mlopsctl.training.train import train

    root = make_repo(tmp_path_factory.mktemp("checks"), models=("iris",))
    applied = run_mlopsctl(["apply", "--auto-approve", "--target", "file.*"], root)
    assert applied.returncode == 0, applied.stderr[-2000:]
    dvc(root, "init", "-q")
    train(root, "iris", progress=False)
    dvc(root, "commit", "-f", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "trained")
    return root


@pytest.fixture
def repo(recorded: Path) -> Iterator[Path]:
    """The recorded repository; whatever a test edits is put back after it."""
    saved = {p: p.read_bytes() for p in (recorded / "models/iris.yaml", recorded / "data/iris.csv")}
    yield recorded
    for path, content in saved.items():
        path.write_bytes(content)


def _plan(root: Path) -> tuple[str, set[str]]:
    proc, mods = imported_modules(["--no-color", "plan"], root)
    assert proc.returncode in (0, 1, 2), proc.stderr[-3000:]
    return proc.stdout, mods


def _set_param(root: Path, old: str, new: str) -> int:
    """Replace the spec line ``old`` with ``new``; returns its line number."""
    spec = root / "models/iris.yaml"
    lines = spec.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == old)
    lines[at] = lines[at].replace(old, new)
    spec.write_text("\n".join(lines) + "\n")
    return at + 1


def test_the_trainer_remembers_the_estimator_params(recorded: Path) -> None:
    assert "sklearn.ensemble.RandomForestClassifier" in (recorded / TABLE).read_text()


def test_a_param_change_plans_without_the_ml_stack(repo: Path) -> None:
    _set_param(repo, "n_estimators: 20", "n_estimators: 30")
    out, mods = _plan(repo)
    assert "estimator.params.n_estimators 20 -> 30" in out
    assert "blocked: models/iris.yaml" not in out
    assert not mods & ML, f"a plan after a param change imported {sorted(mods & ML)}"


def test_a_misspelt_param_is_refused_at_its_line_without_the_ml_stack(repo: Path) -> None:
    line = _set_param(repo, "n_estimators: 20", "n_estimator: 30")
    out, mods = _plan(repo)
    assert re.search(rf"models/iris\.yaml:{line}:\d+: estimator\.params\.n_estimator: RandomForestClassifier has no parameter 'n_estimator'", out), out
    assert "did you mean 'n_estimators'?" in out
    assert not mods & ML, f"checking a param the table knows imported {sorted(mods & ML)}"


def test_without_the_table_the_source_answers_the_same_importing_nothing(repo: Path) -> None:
    _set_param(repo, "n_estimators: 20", "n_estimator: 30")
    with_table, _ = _plan(repo)
    (repo / TABLE).unlink()  # a fresh clone: nothing remembered
    without, mods = _plan(repo)
    assert not mods & ML, f"reading the class's params imported {sorted(mods & ML)}"  # read from its source
    assert with_table == without
    assert "sklearn.ensemble.RandomForestClassifier" in (repo / TABLE).read_text()  # remembered again


def test_a_class_its_source_cannot_tell_is_imported_and_says_the_same(repo: Path) -> None:
    # RidgeCV inherits its __init__: only the class itself can list its params.
    _set_param(repo, "class: sklearn.ensemble.RandomForestClassifier", "class: sklearn.linear_model.RidgeCV")
    _set_param(repo, "n_estimators: 20", "alphaz: 1.0")
    (repo / TABLE).unlink(missing_ok=True)
    first, mods = _plan(repo)
    assert "sklearn" in mods  # nothing remembered, the source unsure: the class is asked
    assert "RidgeCV has no parameter 'alphaz'" in first and "did you mean 'alphas'?" in first, first
    again, mods = _plan(repo)
    assert again == first and not mods & ML  # remembered since


def test_data_breaking_the_contract_is_refused_with_its_line(repo: Path) -> None:
    data = repo / "data/iris.csv"
    lines = data.read_text().splitlines()
    lines[6] = "-1," + lines[6].split(",", 1)[1]
    data.write_text("\n".join(lines) + "\n")
    out, _ = _plan(repo)
    assert "data contract violated: data/iris.csv does not satisfy the features of models/iris.yaml" in out
    assert "column 'sepal_length': min 0: value below 0 (1 row, e.g. line 7: '-1')" in out
