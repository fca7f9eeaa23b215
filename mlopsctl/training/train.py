"""The built-in trainer (``mlopsctl train MODEL``, the command of the ``train_<model>`` stage).

Reads ``params/<model>.yaml`` (what the DVC stage depends on), checks the data contract,
fits ``Pipeline(preprocess, estimator)``, scores it on a held-out split (or cross-validation)
and writes ``artifacts/<model>/{model.joblib, lineage.json, profile.json}`` (the DVC output)
and ``reports/<model>/`` (kept in Git: ``metrics.json``, ``fairness.json`` when the spec names
sensitive columns, and the plots). Seeds are fixed, so the same inputs give the same metrics.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlopsctl import __version__
from mlopsctl.errors import MlopsError, Problem, SpecError
from mlopsctl.pipeline.stages import artifacts_dir, fairness_file, metrics_file, params_path, training_params
from mlopsctl.specs.model_spec import (
    DEFAULT_FOLDS,
    DEFAULT_PREPROCESSING,
    DEFAULT_SEED,
    DEFAULT_TASK,
    DEFAULT_TEST_SIZE,
)
from mlopsctl.workspace.git import head_commit

PHASE_SINK: Callable[[str], None] | None = None
"""Where a training worker (:mod:`mlopsctl.training.worker`) sends the phases it enters, under apply."""


class Progress:
    """Phases with elapsed time on stderr: a live spinner on the console the command passes (a
    terminal), plain lines (and a heartbeat during long phases) otherwise, e.g. under
    ``dvc repro`` in CI."""

    def __init__(self, model: str, enabled: bool = True, heartbeat: float = 15.0, console: Any = None) -> None:
        import os

        self.model = model
        self.enabled = enabled
        self.heartbeat = heartbeat
        self.started = time.monotonic()
        # Under apply, which runs `dvc repro` with MLOPSCTL_PROGRESS=markers: one marker line per
        # phase, which apply's display shows and times itself (no spinner, no heartbeat).
        self.markers = os.environ.get("MLOPSCTL_PROGRESS") == "markers"
        self._console: Any = console if enabled and not self.markers else None

    def line(self, text: str) -> None:
        if not self.enabled:
            return
        if self._console is not None:
            self._console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)

    @contextmanager
    def phase(self, what: str) -> Iterator[None]:
        t0 = time.monotonic()
        label = f"[{self.model}] {what}"
        if not self.enabled:
            yield
            return
        if self.markers:
            if PHASE_SINK is not None:
                PHASE_SINK(what)  # a training worker forwards it to apply
            else:
                from mlopsctl.pipeline.run import PHASE_MARKER

                print(f"{PHASE_MARKER}{what}", file=sys.stderr, flush=True)
            yield
        elif self._console is not None:
            with self._console.status(label + "..."):
                yield
        else:
            done = threading.Event()

            def beat() -> None:
                while not done.wait(self.heartbeat):
                    print(f"{label}: still running ({time.monotonic() - t0:.0f}s)", file=sys.stderr, flush=True)

            ticker = threading.Thread(target=beat, daemon=True)
            ticker.start()
            try:
                yield
            finally:
                done.set()
        self.line(f"{label}: done in {time.monotonic() - t0:.1f}s (total {time.monotonic() - self.started:.1f}s)")


def load_params(root: Path, model: str) -> dict[str, Any]:
    """``params/<model>.yaml`` when rendered; else derived from ``models/<model>.yaml`` (so the
    trainer also runs before the first apply)."""
    from mlopsctl.pipeline.facts import _yaml_load

    path = root / params_path(model)
    if path.is_file():
        data = _yaml_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    spec = root / "models" / f"{model}.yaml"
    if not spec.is_file():
        known = sorted(p.stem for p in (root / "models").glob("*.yaml"))
        close = difflib.get_close_matches(model, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise MlopsError(f"no model {model!r}: neither {params_path(model)} nor models/{model}.yaml exists{hint}")
    data = _yaml_load(spec.read_text(encoding="utf-8")) or {}
    return training_params(model, data, f"models/{model}.yaml")


def _who(root: Path) -> dict[str, Any]:
    from mlopsctl.core.audit import who

    return who(root)


def _scorers(metrics: list[str], doc: Any, spec_path: str) -> dict[str, Any]:
    from sklearn.metrics import get_scorer, get_scorer_names

    out, problems = {}, []
    for i, name in enumerate(metrics):
        try:
            out[name] = get_scorer(name)
        except (ValueError, TypeError):
            close = difflib.get_close_matches(str(name), get_scorer_names(), n=1)
            loc = doc.loc(f"metrics.{i}") if doc is not None else None
            from mlopsctl.errors import Location

            problems.append(Problem(location=loc or Location(spec_path), path=f"metrics.{i}",
                                    message=f"unknown scikit-learn scorer {name!r}",
                                    hint=f"did you mean '{close[0]}'?" if close else None))
    if problems:
        raise SpecError(problems)
    return out


def _write_json(path: Path, data: Any) -> None:
    from mlopsctl.workspace.fsafe import write_atomic

    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", root=path.parents[2])


def train(root: Path, model: str, *, progress: bool = True, console: Any = None) -> dict[str, float]:
    """Train ``model`` and write its artifacts; returns the metrics. MlopsError on bad input.

    ``console``: a rich Console for a live spinner (the command passes one on a terminal)."""
    from mlopsctl.pipeline.facts import md5_file, sha256_file
    from mlopsctl.training.contract import check_file
    from mlopsctl.training.estimators import make_estimator, spec_doc

    root = root.resolve()
    prog = Progress(model, progress, console=console)
    params = load_params(root, model)
    spec_path = str(params.get("spec") or f"models/{model}.yaml")
    doc = spec_doc(root, spec_path)
    task = params.get("task") or DEFAULT_TASK
    split = params.get("split") or {}
    cv = params.get("cv")
    seed = int((cv or split).get("random_state") or DEFAULT_SEED)
    est_cfg = params.get("estimator") or {}
    dotted = str(est_cfg.get("class") or "")

    with prog.phase("load and check data"):
        checked = check_file(root, params)
    with prog.phase("import scikit-learn"):
        import joblib
        import numpy as np

        from mlopsctl.training.preprocess import build_pipeline

        estimator, used_params = make_estimator(root, dotted, est_cfg.get("params") or {}, seed=seed, doc=doc,
                                                spec_path=spec_path)
        from mlopsctl.training.signatures import remember

        remember(root, dotted, type(estimator))  # later plans check these params without importing
        scorers = _scorers(list(params.get("metrics") or []), doc, spec_path)
        pipe = build_pipeline(estimator, params.get("features") or {}, str(params.get("preprocessing") or DEFAULT_PREPROCESSING))
    X, y = checked.X, checked.y
    np.random.seed(seed)

    def at(key: str) -> str:
        """Errors found only while training still name the spec line they come from."""
        return str(doc.loc(key)) if doc.lines else spec_path

    from mlopsctl.training import baseline

    fit_at = at("estimator.params" if est_cfg.get("params") else "estimator.class")
    primary = next(iter(scorers), None)
    if cv:
        metrics = _cross_validate(pipe, X, y, scorers, cv, task, dotted, at("cv.folds"), prog, fit_at=fit_at)
        with prog.phase("out-of-fold predictions for plots and groups"):
            evaluated = _oof_predictions(pipe, X, y, cv, task)
        base = baseline.cross_validated(task, scorers[primary], X, y, _splitter(cv, task)) if primary else None
        with prog.phase(f"fit on all {len(X)} rows"):
            _fit(pipe, X, y, dotted, fit_at, at)
        learned = X
    else:
        X_tr, X_te, y_tr, y_te = _split(X, y, split, task, at("split"))
        with prog.phase(f"fit {dotted.rpartition('.')[2]} on {len(X_tr)} rows"):
            _fit(pipe, X_tr, y_tr, dotted, fit_at, at)
        learned = X_tr
        with prog.phase(f"evaluate on {len(X_te)} held-out rows"):
            metrics = _score(pipe, X_te, y_te, scorers, at("metrics"))
            evaluated = _predictions(pipe, X_te, y_te, task)
        base = baseline.held_out(task, scorers[primary], X_tr, y_tr, X_te, y_te) if primary else None
    if base is not None:
        metrics[f"{primary}{baseline.SUFFIX}"] = base

    data_path = str(params["data"]["path"])
    with prog.phase(f"write {artifacts_dir(model)}/"):
        from mlopsctl.workspace.fsafe import inside, write_atomic

        out = inside(root, artifacts_dir(model))

        out.mkdir(parents=True, exist_ok=True)
        tmp = out / ".model.joblib.tmp"
        joblib.dump(pipe, tmp)
        tmp.replace(out / "model.joblib")
        (root / metrics_file(model)).parent.mkdir(parents=True, exist_ok=True)
        _write_json(root / metrics_file(model), metrics)
        _write_evaluation(root, model, task, params, checked, evaluated, pipe)
        import sklearn

        spec_file = root / spec_path
        lineage = {
            "model": model,
            "data": {"path": data_path, "md5": md5_file(root / data_path), "sha256": sha256_file(root / data_path),
                     "rows": checked.rows},
            "params": used_params,
            "estimator": dotted,
            "preprocessing": params.get("preprocessing") or DEFAULT_PREPROCESSING,
            "split": split or None,
            "cv": cv or None,
            "code_commit": head_commit(root),
            "python": platform.python_version(),
            "sklearn": sklearn.__version__,
            # The serving image pins these too, so it unpickles with what trained the model.
            **_library_versions(),
            "mlopsctl": __version__,
            "features": params.get("features") or {},
            "target": params["data"]["target"],
            "task": task,
            "trained_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "trained_by": _who(root),
            "spec_digest": sha256_file(spec_file) if spec_file.is_file() else None,
        }
        if task == "classification":
            classes = getattr(pipe, "classes_", None)
            lineage["classes"] = [c.item() if hasattr(c, "item") else c for c in classes] if classes is not None else []
        # The reference drift checks compare with: the rows the model learned from and its
        # predictions on them; its digests in the lineage let the registry hand it out verified.
        from mlopsctl.monitoring.profile import prediction_sample, write_profile

        lineage["profile"] = write_profile(out, learned, pipe.predict(prediction_sample(learned)),
                                           params.get("features") or {}, task, model)
        write_atomic(out / "lineage.json", json.dumps(lineage, indent=2, sort_keys=True, default=str) + "\n",
                     root=root)
    prog.line(f"[{model}] " + "  ".join(f"{k} {v:.4g}" for k, v in metrics.items())
              + f"  ({time.monotonic() - prog.started:.1f}s)")
    return metrics


def _scores(pipe: Any, X: Any) -> Any:
    for method in ("predict_proba", "decision_function"):
        if hasattr(pipe, method):
            try:
                return getattr(pipe, method)(X)
            except (AttributeError, NotImplementedError, ValueError):
                continue
    return None


def _predictions(pipe: Any, X: Any, y: Any, task: str) -> dict[str, Any]:
    """What evaluation saw: rows (their index in the data), truth, predictions, scores."""
    return {"index": X.index, "y_true": y, "y_pred": pipe.predict(X),
            "scores": None if task == "regression" else _scores(pipe, X)}


def _oof_predictions(pipe: Any, X: Any, y: Any, cv: dict[str, Any], task: str) -> dict[str, Any]:
    """Out-of-fold predictions on the same folds as the metrics (every row predicted by the
    model that did not learn it). Classifiers with probabilities predict their most likely class."""
    import numpy as np
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    splitter_cls = StratifiedKFold if task == "classification" else KFold
    splitter = splitter_cls(n_splits=int(cv.get("folds", 5)), shuffle=True, random_state=cv.get("random_state", 0))
    if task == "classification" and hasattr(pipe, "predict_proba"):
        proba = cross_val_predict(pipe, X, y, cv=splitter, method="predict_proba")
        classes = np.array(sorted(set(y.tolist()), key=str), dtype=object)
        return {"index": X.index, "y_true": y, "y_pred": classes[proba.argmax(axis=1)], "scores": proba}
    return {"index": X.index, "y_true": y, "y_pred": cross_val_predict(pipe, X, y, cv=splitter), "scores": None}


def _write_evaluation(root: Path, model: str, task: str, params: dict[str, Any], checked: Any,
                      evaluated: dict[str, Any], pipe: Any) -> None:
    """The plots, and the per-group report when the spec names sensitive columns."""
    from mlopsctl.training.fairness import evaluate, positive_label
    from mlopsctl.training.plotfiles import write_plots

    fair = params.get("fairness") or {}
    classes = [c.item() if hasattr(c, "item") else c for c in getattr(pipe, "classes_", [])] \
        if task == "classification" else []
    pos = positive_label(classes, fair.get("positive_label")) if task == "classification" else None
    write_plots(root, model, task, evaluated["y_true"], evaluated["y_pred"], scores=evaluated["scores"],
                classes=classes or None, pos_label=pos)
    if fair.get("sensitive") and checked.sensitive is not None:
        groups = checked.sensitive.loc[evaluated["index"]]
        report = evaluate(evaluated["y_true"], evaluated["y_pred"], groups, task, pos)
        _write_json(root / fairness_file(model), report)


def _fit(pipe: Any, X: Any, y: Any, dotted: str, spec_path: str, at: Any = None) -> None:
    import re

    from mlopsctl.training.estimators import fit_error

    try:
        pipe.fit(X, y)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as e:  # noqa: BLE001 - any fit failure is reported against the spec
        # scikit-learn checks most params only in fit(); its message names the param, and so does ours.
        named = re.search(r"The '(\w+)' parameter of", str(e))
        if named and at is not None:
            spec_path = at(f"estimator.params.{named.group(1)}")
        raise fit_error(dotted, spec_path, e) from None


def _split(X: Any, y: Any, split: dict[str, Any], task: str, spec_path: str) -> tuple[Any, Any, Any, Any]:
    from sklearn.model_selection import train_test_split

    test_size = split.get("test_size", DEFAULT_TEST_SIZE)
    stratify = y if (split.get("stratify") and task == "classification") else None
    if len(X) < 2:
        raise MlopsError(f"{spec_path}: the dataset has {len(X)} row(s); at least 2 are needed to split it")
    try:
        return tuple(train_test_split(X, y, test_size=test_size, random_state=split.get("random_state", DEFAULT_SEED),
                                      stratify=stratify))  # type: ignore[return-value]
    except ValueError as e:
        raise MlopsError(f"{spec_path}: split: cannot split {len(X)} rows with test_size={test_size}"
                         f"{' and stratify' if stratify is not None else ''}: {e}") from None


def _score(pipe: Any, X: Any, y: Any, scorers: dict[str, Any], spec_path: str) -> dict[str, float]:
    out = {}
    for name, scorer in scorers.items():
        try:
            out[name] = float(scorer(pipe, X, y))
        except Exception as e:  # noqa: BLE001 - a metric unfit for the task is a spec problem
            raise MlopsError(f"{spec_path}: metric {name!r} cannot be computed for this model: "
                             f"{type(e).__name__}: {e}") from None
    return out


def _cross_validate(pipe: Any, X: Any, y: Any, scorers: dict[str, Any], cv: dict[str, Any], task: str,
                    dotted: str, spec_path: str, prog: Progress, *, fit_at: str) -> dict[str, float]:
    from sklearn.model_selection import cross_validate

    folds = int(cv.get("folds", DEFAULT_FOLDS))
    splitter = _splitter(cv, task)
    with prog.phase(f"{folds}-fold cross-validation"):
        try:
            res = cross_validate(pipe, X, y, cv=splitter, scoring=scorers, error_score="raise")
        except ValueError as e:
            raise MlopsError(f"{spec_path}: cv: cannot cross-validate {len(X)} rows in {folds} folds: {e}") from None
        except Exception as e:  # noqa: BLE001
            raise MlopsError(f"{fit_at}: estimator {dotted} failed during cross-validation: "
                             f"{type(e).__name__}: {e}") from None
    return {name: float(res[f"test_{name}"].mean()) for name in scorers}


def _splitter(cv: dict[str, Any], task: str) -> Any:
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter_cls = StratifiedKFold if task == "classification" else KFold
    return splitter_cls(n_splits=int(cv.get("folds", DEFAULT_FOLDS)), shuffle=True,
                        random_state=cv.get("random_state", DEFAULT_SEED))


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("numpy", "scipy", "pandas", "joblib"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out
