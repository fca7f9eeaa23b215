"""The standard evaluation plots as DVC plot files under ``reports/<model>/plots/``.

Classifiers: a confusion matrix (one row per evaluation row: actual, predicted), the ROC curve
and the precision-recall curve. Regressors: predicted against actual, and residuals against
predicted. They are CSV files kept in Git (``cache: false``) and declared in dvc.yaml's
``plots:``, so ``dvc plots show`` and ``dvc plots diff main HEAD`` draw them on any clone;
:mod:`mlopsctl.render.charts` turns the same files into Markdown tables and text charts for the
pull-request comment. Files are bounded: curves keep at most :data:`CURVE_POINTS` points, and
at most :data:`MAX_ROWS` evaluation rows are written (a fixed-seed sample beyond that).
"""

from __future__ import annotations

import collections
import csv
import io
import itertools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

CURVE_POINTS = 201
MAX_ROWS = 20_000

from mlopsctl.pipeline.stages import plot_defs, plots_dir
from mlopsctl.workspace.digests import stat_key

if TYPE_CHECKING:
    from mlopsctl.workspace.digests import DigestCache

__all__ = ["plot_defs", "plots_dir", "summarize", "write_plots"]


def _csv(rows: list[dict[str, Any]], fields: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def _thin(n: int) -> list[int]:
    """At most CURVE_POINTS indices of 0..n-1, evenly spread, both ends kept."""
    import numpy as np

    if n <= CURVE_POINTS:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, CURVE_POINTS).round().astype(int).tolist()))


def _sample(n: int, seed: int = 0) -> Any:
    import numpy as np

    if n <= MAX_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=MAX_ROWS, replace=False))


def classifier_curves(y_true: Any, scores: Any, classes: list[Any], pos_label: Any) -> tuple[list[dict[str, Any]],
                                                                                            list[dict[str, Any]]]:
    """ROC and precision-recall points. Binary: for ``pos_label``; several classes: micro-averaged
    one-vs-rest (every class's column of scores against its indicator, pooled)."""
    import numpy as np
    from sklearn.metrics import precision_recall_curve, roc_curve

    t = np.asarray(y_true)
    s = np.asarray(scores, dtype=float)
    if len(classes) > 2 and s.ndim == 2:
        truth = np.stack([(t == c) for c in classes], axis=1).ravel().astype(int)
        flat = s.ravel()
    else:
        col = classes.index(pos_label) if s.ndim == 2 and pos_label in classes else -1
        flat = s[:, col] if s.ndim == 2 else s
        truth = (t == pos_label).astype(int)
    fpr, tpr, thr = roc_curve(truth, flat)
    roc = [{"fpr": float(fpr[i]), "tpr": float(tpr[i]), "threshold": float(thr[i])}
           for i in _thin(len(fpr))]
    prec, rec, pthr = precision_recall_curve(truth, flat)
    pr = [{"recall": float(rec[i]), "precision": float(prec[i]),
           "threshold": float(pthr[i]) if i < len(pthr) else 1.0} for i in _thin(len(prec))]
    return roc, pr


def write_plots(root: Path, model: str, task: str, y_true: Any, y_pred: Any, *, scores: Any = None,
                classes: list[Any] | None = None, pos_label: Any = None) -> list[str]:
    """Write the task's plot files; returns their repository paths."""
    import numpy as np

    from mlopsctl.workspace.fsafe import write_atomic

    keep = _sample(len(y_true))
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    files: dict[str, str] = {}
    d = plots_dir(model)
    if task == "regression":
        t, p = t.astype(float), p.astype(float)
        files[f"{d}/predicted_vs_actual.csv"] = _csv(
            [{"actual": float(t[i]), "predicted": float(p[i])} for i in keep], ["actual", "predicted"])
        files[f"{d}/residuals.csv"] = _csv(
            [{"predicted": float(p[i]), "residual": float(t[i] - p[i])} for i in keep], ["predicted", "residual"])
    else:
        files[f"{d}/confusion.csv"] = _csv([{"actual": str(t[i]), "predicted": str(p[i])} for i in keep],
                                           ["actual", "predicted"])
        cls = list(classes or sorted(set(t.tolist()) | set(p.tolist()), key=str))
        if scores is None:  # no predict_proba nor decision_function: the hard predictions score
            scores = np.stack([(p == c).astype(float) for c in cls], axis=1)
        roc, pr = classifier_curves(t, scores, cls, pos_label)
        files[f"{d}/roc.csv"] = _csv(roc, ["fpr", "tpr", "threshold"])
        files[f"{d}/precision_recall.csv"] = _csv(pr, ["recall", "precision", "threshold"])
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(root / rel, text, root=root)
    return list(files)


def _read_csv(path: Path) -> list[dict[str, str]]:
    """Rows as dicts by the header (blank lines skipped, as csv.DictReader does); a short row
    lacks the missing keys, so reading it fails with KeyError instead of giving None."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows, None) or []
        return [dict(zip(header, r, strict=False)) for r in rows if r]


def _auc(xs: list[float], ys: list[float]) -> float:
    pts = sorted(zip(xs, ys, strict=True))
    return float(sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in itertools.pairwise(pts)))


def summarize(root: Path, model: str, task: str, *, digests: DigestCache | None = None) -> dict[str, Any] | None:
    """What the plan and the pull-request comment show of the plots: small, plain data read back
    from the plot files (None when they are not there, e.g. a custom train command). With the
    run's ``digests``, remembered while the files keep their stat (every plan reads every model's)."""
    if digests is None:
        return _summarize(root, model, task)
    d = Path(root) / plots_dir(model)
    first, *others = ["predicted_vs_actual.csv"] if task == "regression" else [
        "confusion.csv", "roc.csv", "precision_recall.csv"]
    try:
        stats = [stat_key(os.stat(d / name)) for name in others]
        name = "plots-summary:" + json.dumps([task, stats], separators=(",", ":"))
        return digests.memo(d / first, name, lambda _: _summarize(root, model, task))  # type: ignore[no-any-return]
    except OSError:
        return None


def _summarize(root: Path, model: str, task: str) -> dict[str, Any] | None:
    """None when the files are missing or not as the trainer writes them (edited by hand, another
    trainer's): the plan then shows no plots, never a traceback."""
    d = Path(root) / plots_dir(model)
    try:
        if task == "regression":
            return _summarize_regression(_read_csv(d / "predicted_vs_actual.csv"))
        return _summarize_classifier(task, _read_csv(d / "confusion.csv"), _read_csv(d / "roc.csv"),
                                     _read_csv(d / "precision_recall.csv"))
    except (OSError, csv.Error, UnicodeDecodeError, KeyError, ValueError, TypeError):
        return None


def _summarize_classifier(task: str, confusion: list[dict[str, str]], roc: list[dict[str, str]],
                          pr: list[dict[str, str]]) -> dict[str, Any]:
    labels = sorted({r["actual"] for r in confusion} | {r["predicted"] for r in confusion})
    pairs = collections.Counter((r["actual"], r["predicted"]) for r in confusion)
    counts = [[pairs[(a, p)] for p in labels] for a in labels]
    fpr, tpr = [float(r["fpr"]) for r in roc], [float(r["tpr"]) for r in roc]
    rec, prec = [float(r["recall"]) for r in pr], [float(r["precision"]) for r in pr]
    return {
        "task": task,
        "confusion": {"labels": labels, "counts": counts},
        "roc": {"auc": round(_auc(fpr, tpr), 6), "points": [[round(x, 4), round(y, 4)] for x, y in zip(fpr, tpr,
                                                                                                     strict=True)]},
        "precision_recall": {"auc": round(_auc(rec, prec), 6),
                             "points": [[round(x, 4), round(y, 4)] for x, y in zip(rec, prec, strict=True)]},
    }


def _summarize_regression(rows: list[dict[str, str]]) -> dict[str, Any] | None:
    import numpy as np

    if not rows:
        return None
    actual = np.array([float(r["actual"]) for r in rows])
    pred = np.array([float(r["predicted"]) for r in rows])
    resid = actual - pred
    order = np.argsort(actual, kind="stable")
    bins = []
    for chunk in np.array_split(order, min(10, len(order))):
        bins.append({"actual_from": float(actual[chunk].min()), "actual_to": float(actual[chunk].max()),
                     "rows": len(chunk), "mean_actual": float(actual[chunk].mean()),
                     "mean_predicted": float(pred[chunk].mean()), "mean_residual": float(resid[chunk].mean())})
    hist, edges = np.histogram(resid, bins=12)
    return {
        "task": "regression",
        "predicted_vs_actual": {"bins": bins, "points": [[round(float(a), 4), round(float(p), 4)]
                                                         for a, p in zip(actual[order][::max(1, len(order) // 200)],
                                                                         pred[order][::max(1, len(order) // 200)],
                                                                         strict=True)]},
        "residuals": {"mean": float(resid.mean()), "std": float(resid.std()), "histogram": hist.tolist(),
                      "edges": [float(e) for e in edges]},
    }
