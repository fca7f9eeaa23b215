"""The evaluation plots as PNG files (for the workflow run's artifacts and for people).

Drawn with matplotlib (Agg: no display) from the same plot files ``dvc plots`` reads, imported
here only, so nothing else pays for it.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from mlopsctl.errors import MlopsError


def write_pngs(model: str, evaluation: dict[str, Any], out_dir: Path) -> list[Path]:
    """One PNG per plot of ``evaluation`` (:func:`mlopsctl.training.plotfiles.summarize`) in ``out_dir``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MlopsError("drawing PNGs needs matplotlib: pip install matplotlib") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        path = out_dir / f"{model}-{name}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)

    if evaluation.get("task") == "regression":
        pva, res = evaluation["predicted_vs_actual"], evaluation["residuals"]
        fig, ax = plt.subplots(figsize=(5, 5))
        xs, ys = [p[0] for p in pva["points"]], [p[1] for p in pva["points"]]
        lo, hi = min(xs + ys), max(xs + ys)
        ax.scatter(xs, ys, s=8)
        ax.plot([lo, hi], [lo, hi], color="grey", linestyle="--", linewidth=1)
        ax.set(xlabel="actual", ylabel="predicted", title=f"{model}: predicted vs actual")
        save(fig, "predicted_vs_actual")
        fig, ax = plt.subplots(figsize=(5, 4))
        edges = res["edges"]
        ax.bar(edges[:-1], res["histogram"], width=[b - a for a, b in itertools.pairwise(edges)],
               align="edge", edgecolor="white")
        ax.set(xlabel="residual (actual - predicted)", ylabel="rows", title=f"{model}: residuals")
        save(fig, "residuals")
        return written
    conf = evaluation["confusion"]
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(conf["counts"], cmap="Blues")
    labels = conf["labels"]
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i, row in enumerate(conf["counts"]):
        for j, n in enumerate(row):
            ax.text(j, i, str(n), ha="center", va="center")
    ax.set(xlabel="predicted", ylabel="actual", title=f"{model}: confusion matrix")
    save(fig, "confusion")
    for key, (xl, yl, title) in {"roc": ("false positive rate", "true positive rate", "ROC"),
                                 "precision_recall": ("recall", "precision", "precision-recall")}.items():
        curve = evaluation[key]
        fig, ax = plt.subplots(figsize=(5, 4.5))
        ax.plot([p[0] for p in curve["points"]], [p[1] for p in curve["points"]])
        if key == "roc":
            ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
        ax.set(xlabel=xl, ylabel=yl, xlim=(0, 1), ylim=(0, 1.02), title=f"{model}: {title} (area {curve['auc']:.3f})")
        save(fig, key)
    return written
