"""Stage verdicts computed without dvc, compared with real ``dvc status`` case by case."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core.model import Action, Change
from mlopsctl.core.plan import diff_one
from mlopsctl.pipeline import facts
from mlopsctl.providers.dataset import DatasetProvider
from mlopsctl.providers.stage import StageProvider
from tests.builders import model_spec
from tests.pipeline.dvcrepos import (
    context,
    dvc,
    dvc_status,
    make_repo,
    render_pipeline,
    stale_stages,
    to_yaml,
    write_tree,
)

# Real DVC runs, training or Git registries in every test: left out of the fast suite.
pytestmark = pytest.mark.slow


SRC = ("from sklearn.neighbors import KNeighborsClassifier\n\n"
       "class Nearest(KNeighborsClassifier):\n"
       "    def __init__(self, k=5):\n"
       "        self.k = k\n"
       "        super().__init__(n_neighbors=k)\n")


def _plan(root: Path) -> dict[str, Change]:
    ctx = context(root, log=lambda _: None)
    out = {}
    for provider in (DatasetProvider(), StageProvider()):
        for r in provider.expand(ctx):
            change = diff_one(ctx, r.address, r)
            ctx.upstream[r.address] = change
            out[r.address] = change
    return out


def _ours(root: Path) -> set[str]:
    return {f"train_{c.model}" for a, c in _plan(root).items() if a.startswith("stage.") and c.action is not Action.NOOP}


def _apply_all(root: Path) -> None:
    ctx = context(root, log=lambda _: None)
    for provider in (DatasetProvider(), StageProvider()):
        for r in provider.expand(ctx):
            change = diff_one(ctx, r.address, r)
            ctx.upstream[r.address] = change
            if change.action is not Action.NOOP:
                assert not change.blocked, change.blocked
                provider.apply(change, ctx)


def _agree(root: Path, expected: set[str]) -> dict[str, Change]:
    theirs = stale_stages(root)
    assert _ours(root) == theirs == expected, dvc_status(root)
    return _plan(root)


def _reasons(root: Path, model: str) -> tuple[str, ...]:
    return _plan(root)[f"stage.{model}.train"].reasons


def _edit_spec(root: Path, name: str, **top: Any) -> None:
    spec = model_spec(name)
    spec.update(top)
    write_tree(root, {f"models/{name}.yaml": to_yaml(spec)})
    render_pipeline(root)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("stage")
    root = make_repo(tmp, models=("iris", "knn"),
                     files={"src/__init__.py": "", "src/est.py": SRC})
    _edit_spec(root, "knn", estimator={"class": "src.est.Nearest", "params": {"k": 3}})
    render_pipeline(root)
    plan = _plan(root)
    assert plan["stage.iris.train"].action is Action.CREATE
    assert "stage train_iris has not run yet (not in dvc.lock)" in plan["stage.iris.train"].reasons
    _apply_all(root)
    return root


def test_up_to_date_after_apply(trained: Path) -> None:
    _agree(trained, set())
    assert dvc(trained, "metrics", "show", "--json").returncode == 0
    assert "accuracy" in dvc(trained, "metrics", "show").stdout
    assert "src" in (trained / "dvc.yaml").read_text()


def test_data_changed(trained: Path) -> None:
    path = trained / "data/iris.csv"
    before = path.read_bytes()
    path.write_bytes(before + b"5.0,3.0,1.5,0.2,setosa\n")
    try:
        _agree(trained, {"train_iris"})
        (reason,) = [r for r in _reasons(trained, "iris") if r.startswith("data/iris.csv")]
        assert reason.startswith("data/iris.csv changed (md5 ")
        assert any(r.startswith("upstream dataset.data/iris.csv changes first") for r in _reasons(trained, "iris"))
    finally:
        path.write_bytes(before)
    _agree(trained, set())  # same bytes again: up to date (new mtime, same digest)


def test_params_changed(trained: Path) -> None:
    original = (trained / "models/iris.yaml").read_text()
    _edit_spec(trained, "iris", estimator={"class": "sklearn.ensemble.RandomForestClassifier",
                                           "params": {"n_estimators": 30, "random_state": 0}})
    try:
        _agree(trained, {"train_iris"})
        assert _reasons(trained, "iris") == ("estimator.params.n_estimators 20 -> 30",)
    finally:
        write_tree(trained, {"models/iris.yaml": original})
        render_pipeline(trained)
    _agree(trained, set())


def test_gate_or_serving_edits_do_not_retrain(trained: Path) -> None:
    original = (trained / "models/iris.yaml").read_text()
    _edit_spec(trained, "iris", gates={"accuracy": ">= 0.99"}, description="changed")
    try:
        _agree(trained, set())
    finally:
        write_tree(trained, {"models/iris.yaml": original})
        render_pipeline(trained)


def test_code_changed(trained: Path) -> None:
    src = trained / "src/est.py"
    src.write_text(SRC + "\n# tuned\n")
    try:
        _agree(trained, {"train_knn"})
        assert any(r.startswith("src changed") for r in _reasons(trained, "knn"))
    finally:
        src.write_text(SRC)
    _agree(trained, set())


def test_command_changed(trained: Path) -> None:
    original = (trained / "models/iris.yaml").read_text()
    _edit_spec(trained, "iris", train={"cmd": "mlopsctl train iris --quiet"})
    try:
        _agree(trained, {"train_iris"})
        # A custom command writes no plots: the built-in trainer's plot outputs go with it.
        assert _reasons(trained, "iris") == (
            "command changed: 'mlopsctl train iris' -> 'mlopsctl train iris --quiet'",
            "output reports/iris/plots/confusion.csv is no longer declared",
            "output reports/iris/plots/precision_recall.csv is no longer declared",
            "output reports/iris/plots/roc.csv is no longer declared",
        )
    finally:
        write_tree(trained, {"models/iris.yaml": original})
        render_pipeline(trained)
    _agree(trained, set())


def test_output_deleted_and_modified(trained: Path) -> None:
    shutil.rmtree(trained / "artifacts/iris")
    _agree(trained, {"train_iris"})
    assert _reasons(trained, "iris") == ("output artifacts/iris is missing",)
    dvc(trained, "checkout", "-q")
    _agree(trained, set())
    with open(trained / "artifacts/knn/lineage.json", "a") as f:
        f.write("\n")
    _agree(trained, {"train_knn"})
    assert _reasons(trained, "knn") == ("output artifacts/knn was modified since the last run",)
    dvc(trained, "checkout", "-q", "-f")
    _agree(trained, set())


def test_zz_output_not_in_cache(trained: Path) -> None:  # last: it breaks the cache
    entry = facts.load_lock(trained)["train_iris"]
    md5 = entry["outs"][0]["md5"]
    facts.object_path(facts.cache_dir(trained), md5).unlink()
    _agree(trained, {"train_iris"})
    assert _reasons(trained, "iris") == ("output artifacts/iris is not in the DVC cache",)


def test_contract_violation_blocks_the_stage(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    lines = (root / "data/iris.csv").read_text().splitlines()
    lines[4] = "-1," + lines[4].split(",", 1)[1]
    write_tree(root, {"data/iris.csv": "\n".join(lines) + "\n"})
    render_pipeline(root)
    change = _plan(root)["stage.iris.train"]
    assert change.blocked is not None
    assert change.blocked.startswith("data contract violated: data/iris.csv")
    assert "column 'sepal_length': min 0: value below 0 (1 row, e.g. line 5: '-1')" in change.blocked


def test_misspelt_param_blocks_at_plan(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    _edit_spec(root, "iris", estimator={"class": "sklearn.ensemble.RandomForestClassifier",
                                        "params": {"n_estimator": 5}})
    change = _plan(root)["stage.iris.train"]
    assert change.blocked and "models/iris.yaml:" in change.blocked and "did you mean 'n_estimators'?" in change.blocked
