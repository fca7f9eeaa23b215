"""Remembered estimator params: per scikit-learn installation, scikit-learn's classes only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlopsctl.training.signatures import CACHE_RELPATH, EstimatorTable, cacheable, installed_sklearn, remember

DOTTED = "sklearn.ensemble.RandomForestClassifier"


class _Forest:
    def __init__(self, n_estimators: int = 100, random_state: Any = None) -> None:
        self.n_estimators, self.random_state = n_estimators, random_state

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {"n_estimators": self.n_estimators, "random_state": self.random_state}

    def fit(self, X: Any, y: Any) -> _Forest:
        return self


def test_names_are_kept_for_the_installation_that_gave_them(tmp_path: Path) -> None:
    assert installed_sklearn() is not None  # found without importing scikit-learn
    remember(tmp_path, DOTTED, _Forest)
    assert EstimatorTable(tmp_path).params_of(DOTTED) == {"n_estimators", "random_state"}
    blob = json.loads((tmp_path / CACHE_RELPATH).read_text())
    blob["sklearn"] = "0.1.0@/elsewhere/sklearn"  # another scikit-learn was installed since
    (tmp_path / CACHE_RELPATH).write_text(json.dumps(blob))
    assert EstimatorTable(tmp_path).params_of(DOTTED) is None


def test_only_scikit_learn_classes_are_remembered(tmp_path: Path) -> None:
    assert cacheable(DOTTED)
    assert not cacheable("src.models.Mine") and not cacheable("sklearnx.Thing") and not cacheable("sklearn.Thing")
    remember(tmp_path, "src.models.Mine", _Forest)
    assert not (tmp_path / CACHE_RELPATH).exists()


def test_a_corrupt_table_is_ignored_and_rewritten(tmp_path: Path) -> None:
    (tmp_path / CACHE_RELPATH).parent.mkdir(parents=True)
    (tmp_path / CACHE_RELPATH).write_text("{not json")
    table = EstimatorTable(tmp_path)
    assert table.params_of(DOTTED) is None
    table.record(DOTTED, ["n_estimators"])
    table.save()
    assert EstimatorTable(tmp_path).params_of(DOTTED) == {"n_estimators"}
