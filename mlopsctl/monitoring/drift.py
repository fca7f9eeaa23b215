"""Compare current rows with a version's reference profile: one result per feature, one verdict.

The verdict follows the spec's ``monitor.drift``: with ``method: psi`` a feature drifts when its
PSI exceeds ``threshold``; with ``method: ks`` a numeric feature drifts when its KS statistic
exceeds it (categorical features keep PSI: KS needs an order that categories do not have). The
model drifts when any feature or its prediction distribution does. Missing and out-of-contract
shares are reported beside the scores; they are the data contract's business, not the verdict's.

Small samples score high with no drift at all (PSI between two samples of one distribution is
about ``(bins - 1) * (1/n_ref + 1/n_cur)``, and empty bins add the floor's large term), so a
check needs :data:`DEFAULT_MIN_ROWS` current rows (``monitor.drift.min_rows``) and each feature
:data:`DEFAULT_MIN_FEATURE_ROWS` non-missing values (``monitor.drift.min_feature_rows``) before
its score counts. Below that the verdict is "not enough data (N rows, need M)", never drift.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from mlopsctl.monitoring import stats
from mlopsctl.monitoring.profile import is_numeric
from mlopsctl.monitoring.tally import CategoryTally, NumericTally
from mlopsctl.specs.model_spec import DEFAULT_DRIFT_METHOD as DEFAULT_METHOD
from mlopsctl.specs.model_spec import DEFAULT_DRIFT_MIN_FEATURE_ROWS as DEFAULT_MIN_FEATURE_ROWS
from mlopsctl.specs.model_spec import DEFAULT_DRIFT_MIN_ROWS as DEFAULT_MIN_ROWS
from mlopsctl.specs.model_spec import DEFAULT_DRIFT_THRESHOLD as DEFAULT_THRESHOLD

if TYPE_CHECKING:
    import pandas as pd

OTHER = "(unseen)"
"""The bin of categories the training data never had."""


@dataclass
class FeatureDrift:
    name: str
    kind: str
    """numeric | categorical | absent (the column is not in the current data)."""
    score: float
    """The number the verdict compares with the threshold (PSI, or KS D with method ks)."""
    drifted: bool
    psi: float | None = None
    test: str | None = None
    """ks | chi2"""
    statistic: float | None = None
    pvalue: float | None = None
    rows: int = 0
    values: int = 0
    """Non-missing current values compared (rows minus missing ones)."""
    too_few: str | None = None
    """"not enough data (N rows, need M)" when the score does not count; then never drifted."""
    missing_reference: float = 0.0
    missing_current: float = 0.0
    out_of_contract: float = 0.0
    bins: list[str] = field(default_factory=list)
    reference: list[float] = field(default_factory=list)
    current: list[float] = field(default_factory=list)


@dataclass
class DriftReport:
    model: str
    version: int | None
    method: str
    threshold: float
    source: str
    rows: int
    reference_rows: int
    features: list[FeatureDrift]
    """Worst first (highest score relative to the threshold)."""
    prediction: FeatureDrift | None = None
    checked_at: str = ""
    environment: str | None = None
    data: dict[str, Any] | None = None
    """Digest of the current data file (path, md5), when it came from one."""
    min_rows: int = DEFAULT_MIN_ROWS
    min_feature_rows: int = DEFAULT_MIN_FEATURE_ROWS

    @property
    def enough(self) -> bool:
        """Whether there are enough current rows for a verdict at all."""
        return self.rows >= self.min_rows

    @property
    def drifted(self) -> bool:
        if not self.enough:
            return False
        return any(f.drifted for f in self.features) or bool(self.prediction and self.prediction.drifted)

    @property
    def verdict(self) -> str:
        """drift | no drift | not enough data"""
        return "drift" if self.drifted else "no drift" if self.enough else "not enough data"

    @property
    def drifted_features(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    def headline(self) -> str:
        """One line, e.g. "drift: psi 0.31 > 0.2 on petal_width" (used as the plan's reason)."""
        if not self.enough:
            return f"not enough data ({self.rows} rows, need {self.min_rows})"
        worst = self.drifted_features or ([self.prediction] if self.prediction and self.prediction.drifted else [])
        if not worst:
            top = self.features[0] if self.features else None
            if top is None:
                return "no drift"
            return f"no drift: {self.method} at most {top.score:.3g} <= {self.threshold:g} ({top.name})"
        first = worst[0]
        more = f" and {len(worst) - 1} more" if len(worst) > 1 else ""
        return f"drift: {self.method} {first.score:.3g} > {self.threshold:g} on {first.name}{more}"

    @property
    def psi_noise(self) -> float:
        """PSI's expected value between two samples of one distribution, about (bins - 1) *
        (1/n_ref + 1/n_cur): what small samples score with no drift at all."""
        if not self.rows or not self.reference_rows:
            return 0.0
        return (stats.BINS - 1) * (1 / self.reference_rows + 1 / self.rows)

    def notes(self) -> list[str]:
        if not self.enough:
            return []
        out = [f"{f.name}: {f.too_few}: its score does not count (monitor.drift.min_feature_rows)"
               for f in [*self.features, *([self.prediction] if self.prediction else [])] if f.too_few]
        if self.method == "psi" and self.psi_noise > self.threshold / 4:
            note = (f"few rows ({self.reference_rows} training, {self.rows} current): PSI scores about "
                    f"{self.psi_noise:.2g} with no drift at all, so verdicts near {self.threshold:g} are noise; "
                    "the KS p-values say more at this size")
            out.append(note)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "environment": self.environment,
            "method": self.method,
            "threshold": self.threshold,
            "source": self.source,
            "rows": self.rows,
            "reference_rows": self.reference_rows,
            "checked_at": self.checked_at,
            "drifted": self.drifted,
            "verdict": self.verdict,
            "min_rows": self.min_rows,
            "min_feature_rows": self.min_feature_rows,
            "headline": self.headline(),
            "drifted_features": [f.name for f in self.drifted_features],
            "data": self.data,
            "notes": self.notes(),
            "features": [_clean(asdict(f)) for f in self.features],
            "prediction": _clean(asdict(self.prediction)) if self.prediction else None,
        }


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    import math

    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def _edge_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all"]
    labels = [f"<= {edges[0]:.4g}"]
    labels += [f"({a:.4g}, {b:.4g}]" for a, b in pairwise(edges)]
    labels.append(f"> {edges[-1]:.4g}")
    return labels


def _numeric(name: str, ref: dict[str, Any], tally: NumericTally, method: str, threshold: float) -> FeatureDrift:
    n = tally.rows
    edges = list(ref.get("edges") or [])
    ref_shares = list(ref.get("shares") or [])
    cur_shares = [float(s) for s in stats.shares(tally.bins)] if tally.values else []
    out = FeatureDrift(name=name, kind="numeric", score=float("nan"), drifted=False, rows=n, values=tally.values,
                       missing_reference=float(ref.get("missing") or 0.0),
                       missing_current=tally.missing / n if n else 0.0,
                       out_of_contract=tally.bad / n if n else 0.0,
                       bins=_edge_labels(edges), reference=ref_shares, current=cur_shares)
    if not tally.values or not ref_shares:
        return out
    out.psi = stats.psi(ref_shares, cur_shares)
    if tally.ks is not None:
        ks = tally.ks.result()
        out.test, out.statistic, out.pvalue = "ks", ks.statistic, ks.pvalue
    out.score = out.statistic if method == "ks" and out.statistic is not None else out.psi
    out.drifted = bool(out.score > threshold)
    return out


def _categorical(name: str, ref: dict[str, Any], tally: CategoryTally, threshold: float) -> FeatureDrift:
    n = tally.rows
    ref_counts: dict[str, int] = {str(k): int(v) for k, v in (ref.get("counts") or {}).items()}
    cur_counts = tally.counts
    cats = sorted(ref_counts, key=lambda c: -ref_counts[c])
    unseen = sum(v for k, v in cur_counts.items() if k not in ref_counts)
    cur_vec = [cur_counts.get(c, 0) for c in cats] + [unseen]
    ref_vec = [ref_counts[c] for c in cats] + [0]
    ref_sh, cur_sh = stats.shares(ref_vec), stats.shares(cur_vec)
    out = FeatureDrift(name=name, kind="categorical", score=float("nan"), drifted=False, rows=n, values=tally.values,
                       missing_reference=float(ref.get("missing") or 0.0),
                       missing_current=tally.missing / n if n else 0.0,
                       out_of_contract=tally.out_of_contract / n if n else 0.0,
                       bins=[*cats, OTHER], reference=[float(x) for x in ref_sh], current=[float(x) for x in cur_sh])
    if not sum(cur_vec) or not ref_vec:
        return out
    out.psi = stats.psi(ref_sh, cur_sh)
    # chi-square over every category either side has (unseen ones individually).
    extra = [c for c in cur_counts if c not in ref_counts]
    chi = stats.chi2_homogeneity([ref_counts[c] for c in cats] + [0] * len(extra),
                                 [cur_counts.get(c, 0) for c in cats] + [cur_counts[c] for c in extra])
    out.test, out.statistic, out.pvalue = "chi2", chi.statistic, chi.pvalue
    out.score = out.psi
    out.drifted = bool(out.score > threshold)
    return out


CHUNK_ROWS = 100_000
"""Rows counted at a time when a whole DataFrame is compared: the typed copies of a column exist
for one chunk at a time."""


class Comparison:
    """A drift check fed chunk by chunk (:meth:`add`), then :meth:`report`. Chunks are counted
    (:mod:`~mlopsctl.monitoring.tally`), never kept, so memory is bounded by one chunk."""

    def __init__(self, profile: dict[str, Any], features: dict[str, dict[str, Any]], *,
                 method: str = DEFAULT_METHOD, threshold: float = DEFAULT_THRESHOLD,
                 min_rows: int = DEFAULT_MIN_ROWS, min_feature_rows: int = DEFAULT_MIN_FEATURE_ROWS) -> None:
        self.profile, self.method, self.threshold = profile, method, threshold
        self.min_rows, self.min_feature_rows = min_rows, min_feature_rows
        self.ref_features: dict[str, Any] = profile.get("features") or {}
        # A feature added after this version was trained has nothing to compare with: skipped.
        self.tallies: dict[str, NumericTally | CategoryTally] = {}
        for name, rule in features.items():
            if name not in self.ref_features:
                continue
            rule = rule or {}
            if self.ref_features[name].get("kind") == "numeric" and is_numeric(rule):
                self.tallies[name] = NumericTally(self.ref_features[name], rule)
            else:
                self.tallies[name] = CategoryTally(str(rule.get("type") or "category"), rule.get("values"))
        ref_pred = profile.get("prediction") or None
        self.pred_tally: NumericTally | CategoryTally | None = None
        if ref_pred:
            numeric = ref_pred.get("kind") == "numeric"
            self.pred_tally = NumericTally(ref_pred, {}) if numeric else CategoryTally("category")
        self.rows = 0
        self.predicted = False
        self.absent: set[str] | None = None
        """The features the current data has no column for (known from the first chunk)."""

    def add(self, frame: pd.DataFrame, predictions: Any = None) -> None:
        """More current rows (all chunks have the same columns), and their predictions if any."""
        import numpy as np
        import pandas as pd

        if self.absent is None:
            self.absent = {n for n in self.tallies if n not in frame.columns}
        self.rows += len(frame)
        for name, tally in self.tallies.items():
            if name not in self.absent:
                tally.add(frame[name])
        if predictions is not None and self.pred_tally is not None:
            self.predicted = True
            if isinstance(self.pred_tally, NumericTally):
                self.pred_tally.add(pd.Series(np.asarray(predictions)))
            else:
                self.pred_tally.add(pd.Series(np.asarray(predictions, dtype=object)))

    def report(self, *, model: str = "", version: int | None = None, source: str = "") -> DriftReport:
        results: list[FeatureDrift] = []
        for name, tally in self.tallies.items():
            ref = self.ref_features[name]
            if name in (self.absent or set()):
                results.append(FeatureDrift(name=name, kind="absent", score=float("inf"), drifted=True, rows=self.rows,
                                            missing_reference=float(ref.get("missing") or 0.0), missing_current=1.0))
            elif isinstance(tally, NumericTally):
                results.append(_numeric(name, ref, tally, self.method, self.threshold))
            else:
                results.append(_categorical(name, ref, tally, self.threshold))
        pred: FeatureDrift | None = None
        pt = self.pred_tally
        if pt is not None and self.predicted:
            ref_pred = self.profile["prediction"]
            pred = (_numeric("(prediction)", ref_pred, pt, self.method, self.threshold)
                    if isinstance(pt, NumericTally) else _categorical("(prediction)", ref_pred, pt, self.threshold))
        for f in [*results, *([pred] if pred else [])]:
            _require(f, self.rows, self.min_rows, self.min_feature_rows)
        results.sort(key=_severity, reverse=True)
        return DriftReport(
            model=model or str(self.profile.get("model") or ""),
            version=version,
            method=self.method,
            threshold=self.threshold,
            source=source,
            rows=self.rows,
            reference_rows=int(self.profile.get("rows") or 0),
            features=results,
            prediction=pred,
            checked_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            min_rows=self.min_rows,
            min_feature_rows=self.min_feature_rows,
        )


def compare(
    profile: dict[str, Any],
    frame: pd.DataFrame,
    features: dict[str, dict[str, Any]],
    *,
    predictions: Any = None,
    method: str = DEFAULT_METHOD,
    threshold: float = DEFAULT_THRESHOLD,
    model: str = "",
    version: int | None = None,
    source: str = "",
    min_rows: int = DEFAULT_MIN_ROWS,
    min_feature_rows: int = DEFAULT_MIN_FEATURE_ROWS,
) -> DriftReport:
    """Drift of ``frame`` (the current rows, raw or typed) against ``profile``; a check with
    fewer than ``min_rows`` rows, or a feature with fewer than ``min_feature_rows`` values, never
    drifts (its verdict is "not enough data")."""
    import numpy as np

    check = Comparison(profile, features, method=method, threshold=threshold, min_rows=min_rows,
                       min_feature_rows=min_feature_rows)
    preds = None
    if predictions is not None:
        kind = (profile.get("prediction") or {}).get("kind")
        preds = np.asarray(predictions) if kind == "numeric" else np.asarray(predictions, dtype=object)
    for start in range(0, max(len(frame), 1), CHUNK_ROWS):
        part = preds[start:start + CHUNK_ROWS] if preds is not None else None
        check.add(frame.iloc[start:start + CHUNK_ROWS], part)
    return check.report(model=model, version=version, source=source)


def _require(f: FeatureDrift, rows: int, min_rows: int, min_feature_rows: int) -> None:
    """Too few rows overall, or too few values of this feature: the score is shown, never a verdict."""
    if rows < min_rows:
        f.too_few = f"not enough data ({rows} rows, need {min_rows})"
    elif f.kind != "absent" and f.values < min_feature_rows:
        f.too_few = f"not enough data ({f.values} rows, need {min_feature_rows})"
    if f.too_few:
        f.drifted = False


def _severity(f: FeatureDrift) -> tuple[int, float]:
    import math

    score = -1.0 if math.isnan(f.score) else f.score
    return (1 if f.drifted else 0, score)
