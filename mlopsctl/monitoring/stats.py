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
    import numpy as np

    ref = np.asarray(reference, dtype="float64")
    counts = KSCounts(ref if reference_sorted else np.sort(ref))
    counts.add(np.asarray(current, dtype="float64"))
    return counts.result()


class KSCounts:
    """The two-sample KS test against a fixed reference sample, with the current sample arriving
    in chunks (nothing of it is kept but counts, and up to :data:`EXACT_KS_MAX_N` values).

    Between two consecutive distinct reference values the reference CDF is flat and the current
    one only rises, so the largest gap either way lies at a reference value or just before the
    next one. Counting the current values ``<=`` and ``<`` each distinct reference value is
    therefore enough, and counts add up chunk by chunk. Each gap is then the very float scipy
    computes at an observed point (the same integer counts over the same sizes), so D equals
    scipy's to the last bit, without sorting the current values.
    """

    def __init__(self, reference_sorted: np.ndarray) -> None:
        import numpy as np

        ref = np.asarray(reference_sorted, dtype="float64")
        self.reference = ref
        self.n1 = int(ref.size)
        self.points = np.unique(ref)
        self.ref_le = np.searchsorted(ref, self.points, side="right")
        self.ref_lt = np.searchsorted(ref, self.points, side="left")
        m = self.points.size
        self.at_or_below = np.zeros(m, dtype=np.int64)
        """Current values <= each point."""
        self.below = np.zeros(m, dtype=np.int64)
        """Current values < each point."""
        self.n2 = 0
        self._kept: list[np.ndarray] | None = []

    def add(self, values: np.ndarray, *, already_sorted: bool = False) -> None:
        """More current values (none missing). Sorted (cheap: numpy's SIMD sort), each count is
        one search of a reference point into them, instead of one search per current value."""
        import numpy as np

        if not values.size:
            return
        xs = values if already_sorted else np.sort(values)
        below = np.searchsorted(xs, self.points, side="left")
        at_or_below = below.copy()
        tie = below < xs.size  # a point some current value equals: count the equal ones too
        tie[tie] = xs[below[tie]] == self.points[tie]
        if tie.any():
            at_or_below[tie] = np.searchsorted(xs, self.points[tie], side="right")
        self.below += below
        self.at_or_below += at_or_below
        self.n2 += int(xs.size)
        if self._kept is not None:
            self._kept = [*self._kept, xs.copy()] if self.n2 <= EXACT_KS_MAX_N else None

    def result(self) -> TestResult:
        import math

        import numpy as np

        n1, n2 = self.n1, self.n2
        if n1 == 0 or n2 == 0:
            return TestResult(float("nan"), float("nan"), "none")
        if max(n1, n2) <= EXACT_KS_MAX_N and self._kept is not None:
            # The exact distribution is scipy's business; at this size its full test costs microseconds.
            from scipy.stats import ks_2samp as scipy_ks

            res = scipy_ks(self.reference, np.concatenate(self._kept))
            return TestResult(float(res.statistic), float(res.pvalue), "exact")
        gaps = np.concatenate([self.ref_le / n1 - self.at_or_below / n2, self.ref_lt / n1 - self.below / n2])
        d = float(max(gaps.max(), np.clip(-gaps.min(), 0, 1)))
        from scipy.stats import kstwo

        big, small = sorted([float(n1), float(n2)], reverse=True)
        p = float(kstwo.sf(d, np.round(big * small / (big + small))))
        return TestResult(d, min(max(p, 0.0), 1.0) if not math.isnan(p) else p, "asymp")


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
