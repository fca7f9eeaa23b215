"""Remembered estimator params: per scikit-learn installation, scikit-learn's classes only."""

from __future__ import annotations

import json
import warnings
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


def _public_paths() -> list[tuple[str, type]]:
    """Every scikit-learn estimator under the path people write (``sklearn.ensemble.X``)."""
    import importlib

    from sklearn.utils import all_estimators

    out = []
    for name, cls in all_estimators():
        public = ".".join(cls.__module__.split(".")[:2])
        if getattr(importlib.import_module(public), name, None) is cls:
            out.append((f"{public}.{name}", cls))
    return out


def test_names_read_from_the_source_equal_what_the_class_says() -> None:
    from mlopsctl.training.estimators import param_names
    from mlopsctl.training.signatures import static_param_names

    read, unsure = 0, []
    for dotted, cls in _public_paths():
        static = static_param_names(dotted)
        if static is None:
            unsure.append(dotted)  # the plan imports these, as before
            continue
        read += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # deprecated classes still answer
            assert static == param_names(cls), dotted
    assert read > 150, (read, unsure)  # most are read from the source
    for common in (DOTTED, "sklearn.linear_model.LogisticRegression", "sklearn.ensemble.GradientBoostingRegressor",
                   "sklearn.ensemble.HistGradientBoostingClassifier", "sklearn.svm.SVC", "sklearn.linear_model.Ridge"):
        assert common not in unsure


def test_reading_the_source_imports_nothing_and_is_unsure_rather_than_wrong() -> None:
    import subprocess
    import sys

    code = ("import sys; from mlopsctl.training.signatures import static_param_names as s; "
            f"n = s({DOTTED!r}); print(sorted(n)[:2], 'sklearn' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['bootstrap', 'ccp_alpha'] False False"
    from mlopsctl.training.signatures import static_param_names

    for dotted in ("sklearn.ensemble.NoSuchClass", "sklearn.nosuchmodule.X", "sklearn.ensemble", "sklearn..x",
                   "sklearn.ensemble._forest.BaseForest",  # abstract, a required argument
                   "sklearn.pipeline.Pipeline",  # requires steps
                   "src.mine.Model", "os.path.join"):
        assert static_param_names(dotted) is None, dotted
