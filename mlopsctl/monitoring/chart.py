"""A PNG of the worst features: reference and current shares per bin, side by side.

matplotlib is imported here only (with the Agg backend: no display needed), so nothing else
pays for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlopsctl.errors import MlopsError

if TYPE_CHECKING:
    from mlopsctl.monitoring.drift import DriftReport

WORST = 4


def write_chart(report: DriftReport, path: Path, worst: int = WORST) -> Path:
    """Draw up to ``worst`` features (drifted first, then by score) and the predictions into ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MlopsError("--chart needs matplotlib: pip install matplotlib") from None
    shown = [f for f in report.features if f.bins and f.current][:worst]
    if report.prediction is not None and report.prediction.current:
        shown.append(report.prediction)
    if not shown:
        raise MlopsError("nothing to chart: no feature has current values to compare")
    fig, axes = plt.subplots(len(shown), 1, figsize=(9, 2.6 * len(shown)), squeeze=False)
    for ax, f in zip(axes[:, 0], shown, strict=True):
        xs = range(len(f.bins))
        width = 0.4
        ax.bar([x - width / 2 for x in xs], f.reference, width, label="reference (training)", color="#7f9fbf")
        ax.bar([x + width / 2 for x in xs], f.current, width, label="current",
               color="#d9534f" if f.drifted else "#5cb85c")
        ax.set_xticks(list(xs))
        ax.set_xticklabels(f.bins, rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("share")
        verdict = "DRIFT" if f.drifted else "ok"
        ax.set_title(f"{f.name}: {report.method} {f.score:.3g} (threshold {report.threshold:g}) - {verdict}",
                     fontsize=10)
        ax.legend(fontsize=7, loc="upper right")
    version = f" v{report.version}" if report.version is not None else ""
    fig.suptitle(f"Drift of {report.model}{version}: {report.rows} current rows vs training", fontsize=11)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, format="png", dpi=100)
    except OSError as e:
        raise MlopsError(f"cannot write the chart {path}: {e.strerror or e}") from None
    finally:
        plt.close(fig)
    return path
