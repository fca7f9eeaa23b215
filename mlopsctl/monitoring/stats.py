"""Drift statistics with numpy, vectorised so a million rows take well under a second.

Definitions (docs/monitoring.md repeats them for users):

- **Binning.** Numeric features get :data:`BINS` reference quantile bins: the inner edges are
  the deciles of the training data (numpy's default linear interpolation), duplicates removed,
  and the outer bins are open-ended, so every current value falls in some bin. Bins are closed on
  the right: bin ``i`` holds ``edges[i-1] < x <= edges[i]``. Categorical features get one bin per
  training category plus one for categories never seen in training.
- **PSI** (population stability index), textbook definition:
  ``PSI = sum_i (c_i - r_i) * ln(c_i / r_i)`` over the bins, where ``r_i``/``c_i`` are the
  reference/current shares of non-missing values. Guard for empty bins: each share is floored at
  :data:`EPSILON` (1e-4) before the formula, without renormalising, so an empty bin contributes a
  large but finite term instead of infinity.
- **Kolmogorov-Smirnov**, two-sample, two-sided: ``D = max |F_ref(x) - F_cur(x)|`` over both
  samples. The p-value follows ``scipy.stats.ks_2samp``'s default (``method='auto'``): exact when
  both samples have at most 10,000 values, Smirnov's asymptotic distribution otherwise.
- **Chi-square** test of homogeneity on the 2 x k table of reference and current category
  counts (no continuity correction), as ``scipy.stats.chi2_contingency(table, correction=False)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

BINS = 10
EPSILON = 1e-4
EXACT_KS_MAX_N = 10_000
"""scipy's ``MAX_AUTO_N``: up to this sample size ks_2samp computes the exact p-value."""


def quantile_edges(values: np.ndarray, bins: int = BINS) -> list[float]:
    """Inner bin edges: the reference's quantiles at 1/bins ... (bins-1)/bins, without duplicates."""
    import numpy as np

    if values.size == 0:
        return []
    qs = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(q) for q in np.unique(qs)]


def bin_counts(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Counts per bin: ``len(edges) + 1`` bins, open-ended outside, closed on the right."""
    import numpy as np

    idx = np.searchsorted(np.asarray(edges, dtype="float64"), values, side="left")
    return np.bincount(idx, minlength=len(edges) + 1)


def shares(counts: Any) -> np.ndarray:
    import numpy as np

    c = np.asarray(counts, dtype="float64")
    total = c.sum()
    return c / total if total > 0 else np.zeros_like(c)


def psi(reference: Any, current: Any, epsilon: float = EPSILON) -> float:
    """PSI of two share vectors over the same bins (each floored at ``epsilon``)."""
    import numpy as np

    r = np.maximum(np.asarray(reference, dtype="float64"), epsilon)
    c = np.maximum(np.asarray(current, dtype="float64"), epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


@dataclass(frozen=True)
class TestResult:
    statistic: float
    pvalue: float
    method: str


def ks_2samp(reference: np.ndarray, current: np.ndarray, *, reference_sorted: bool = False) -> TestResult:
    """Two-sided two-sample KS test; statistic and p-value as ``scipy.stats.ks_2samp`` gives them."""
    import math

    import numpy as np

    ref = np.asarray(reference, dtype="float64")
    ref = ref if reference_sorted else np.sort(ref)
    cur = np.sort(np.asarray(current, dtype="float64"))
    n1, n2 = ref.size, cur.size
    if n1 == 0 or n2 == 0:
        return TestResult(float("nan"), float("nan"), "none")
    # The CDF difference changes only at observed values: evaluate it at every one of them (as
    # scipy does), but find the current sample's own CDF at its points in one linear pass.
    at_ref = np.searchsorted(ref, ref, side="right") / n1 - np.searchsorted(cur, ref, side="right") / n2
    at_cur = np.searchsorted(ref, cur, side="right") / n1 - _right_ranks(cur) / n2
    d = float(max(at_ref.max(), at_cur.max(), np.clip(-min(at_ref.min(), at_cur.min()), 0, 1)))
    if max(n1, n2) <= EXACT_KS_MAX_N:
        # The exact distribution is scipy's business; at this size its full test costs microseconds.
        from scipy.stats import ks_2samp as scipy_ks

        res = scipy_ks(ref, cur)
        return TestResult(d, float(res.pvalue), "exact")
    from scipy.stats import kstwo

    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    p = float(kstwo.sf(d, np.round(en)))
    return TestResult(d, min(max(p, 0.0), 1.0) if not math.isnan(p) else p, "asymp")


def _right_ranks(a: np.ndarray) -> np.ndarray:
    """``np.searchsorted(a, a, side="right")`` for a sorted ``a``, in linear time: for each value,
    how many values are <= it (ties share the end of their run)."""
    import numpy as np

    n = a.size
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(a[1:], a[:-1], out=starts[1:])
    run = np.cumsum(starts) - 1
    ends = np.append(np.flatnonzero(starts)[1:], n)
    return ends[run]


def chi2_homogeneity(reference_counts: Any, current_counts: Any) -> TestResult:
    """Chi-square test that two count vectors over the same categories come from one distribution."""
    import numpy as np
    from scipy.stats import chi2

    table = np.vstack([np.asarray(reference_counts, dtype="float64"), np.asarray(current_counts, dtype="float64")])
    table = table[:, table.sum(axis=0) > 0]  # a category neither sample has carries no information
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return TestResult(0.0, 1.0, "chi2")
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(((table - expected) ** 2 / expected).sum())
    dof = table.shape[1] - 1
    return TestResult(stat, float(chi2.sf(stat, dof)), "chi2")
