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
import os
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from mlopsctl.monitoring import stats
from mlopsctl.monitoring.profile import category_keys, is_numeric
from mlopsctl.specs.model_spec import DEFAULT_DRIFT_METHOD as DEFAULT_METHOD
from mlopsctl.specs.model_spec import DEFAULT_DRIFT_MIN_FEATURE_ROWS as DEFAULT_MIN_FEATURE_ROWS
from mlopsctl.specs.model_spec import DEFAULT_DRIFT_MIN_ROWS as DEFAULT_MIN_ROWS
from mlopsctl.specs.model_spec import DEFAULT_DRIFT_THRESHOLD as DEFAULT_THRESHOLD

if TYPE_CHECKING:
    import numpy as np
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


def _numeric(name: str, ref: dict[str, Any], col: pd.Series | None, rule: dict[str, Any], method: str,
             threshold: float, values: np.ndarray | None = None) -> FeatureDrift:
    import numpy as np
    import pandas as pd

    if values is None:
        assert col is not None
        raw_present = col.notna().to_numpy()
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64")
        invalid = raw_present & np.isnan(values)
    else:
        raw_present = ~np.isnan(values)
        invalid = np.zeros(values.shape, dtype=bool)
    n = int(values.size)
    ok = ~np.isnan(values)
    present = values[ok]
    bad = int(invalid.sum())
    if rule.get("min") is not None:
        bad += int((present < float(rule["min"])).sum())
    if rule.get("max") is not None:
        bad += int((present > float(rule["max"])).sum())
    edges = list(ref.get("edges") or [])
    ref_shares = list(ref.get("shares") or [])
    cur_shares = [float(s) for s in stats.shares(stats.bin_counts(present, edges))] if present.size else []
    out = FeatureDrift(name=name, kind="numeric", score=float("nan"), drifted=False, rows=n, values=int(present.size),
                       missing_reference=float(ref.get("missing") or 0.0),
                       missing_current=float((~raw_present).sum() / n) if n else 0.0,
                       out_of_contract=bad / n if n else 0.0,
                       bins=_edge_labels(edges), reference=ref_shares, current=cur_shares)
    if not present.size or not ref_shares:
        return out
    out.psi = stats.psi(ref_shares, cur_shares)
    sample = np.asarray(ref.get("sample") or [], dtype="float64")
    if sample.size:
        ks = stats.ks_2samp(sample, present, reference_sorted=True)
        out.test, out.statistic, out.pvalue = "ks", ks.statistic, ks.pvalue
    out.score = out.statistic if method == "ks" and out.statistic is not None else out.psi
    out.drifted = bool(out.score > threshold)
    return out


def _categorical(name: str, ref: dict[str, Any], col: pd.Series, rule: dict[str, Any], threshold: float
                 ) -> FeatureDrift:
    ftype = str(rule.get("type") or "category")
    n = len(col)
    keys = category_keys(col, ftype)
    invalid = int(keys.isna().sum())  # present, but not a bool where a bool is expected
    keys = keys[keys.notna()]
    allowed = rule.get("values")
    if allowed is not None:
        invalid += int((~keys.isin({str(v) for v in allowed})).sum())
    ref_counts: dict[str, int] = {str(k): int(v) for k, v in (ref.get("counts") or {}).items()}
    cur_counts = keys.value_counts()
    cats = sorted(ref_counts, key=lambda c: -ref_counts[c])
    unseen = int(cur_counts[~cur_counts.index.isin(cats)].sum()) if len(cur_counts) else 0
    cur_vec = [int(cur_counts.get(c, 0)) for c in cats] + [unseen]
    ref_vec = [ref_counts[c] for c in cats] + [0]
    ref_sh, cur_sh = stats.shares(ref_vec), stats.shares(cur_vec)
    out = FeatureDrift(name=name, kind="categorical", score=float("nan"), drifted=False, rows=n, values=len(keys),
                       missing_reference=float(ref.get("missing") or 0.0),
                       missing_current=float(col.isna().sum() / n) if n else 0.0,
                       out_of_contract=invalid / n if n else 0.0,
                       bins=[*cats, OTHER], reference=[float(x) for x in ref_sh], current=[float(x) for x in cur_sh])
    if not sum(cur_vec) or not ref_vec:
        return out
    out.psi = stats.psi(ref_sh, cur_sh)
    # chi-square over every category either side has (unseen ones individually).
    extra = [str(c) for c in cur_counts.index if c not in ref_counts]
    chi = stats.chi2_homogeneity([ref_counts[c] for c in cats] + [0] * len(extra),
                                 [int(cur_counts.get(c, 0)) for c in cats] + [int(cur_counts[c]) for c in extra])
    out.test, out.statistic, out.pvalue = "chi2", chi.statistic, chi.pvalue
    out.score = out.psi
    out.drifted = bool(out.score > threshold)
    return out


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
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import pandas as pd

    ref_features: dict[str, Any] = profile.get("features") or {}

    def one(name: str) -> FeatureDrift:
        rule = features[name] or {}
        ref = ref_features[name]
        if name not in frame.columns:
            return FeatureDrift(name=name, kind="absent", score=float("inf"), drifted=True, rows=len(frame),
                                missing_reference=float(ref.get("missing") or 0.0), missing_current=1.0)
        if ref.get("kind") == "numeric" and is_numeric(rule):
            return _numeric(name, ref, frame[name], rule, method, threshold)
        return _categorical(name, ref, frame[name], rule, threshold)

    # A feature added after this version was trained has nothing to compare with: skipped.
    names = [n for n in features if n in ref_features]
    if len(frame) * len(names) >= 1_000_000:
        # numpy's sorts and searches release the GIL: features in parallel use every core.
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            results = list(pool.map(one, names))
    else:
        results = [one(n) for n in names]
    pred: FeatureDrift | None = None
    ref_pred = profile.get("prediction")
    if predictions is not None and ref_pred:
        if ref_pred.get("kind") == "numeric":
            vals = pd.to_numeric(pd.Series(np.asarray(predictions)), errors="coerce").to_numpy(dtype="float64")
            pred = _numeric("(prediction)", ref_pred, None, {}, method, threshold, values=vals)
        else:
            pred = _categorical("(prediction)", ref_pred, pd.Series(np.asarray(predictions, dtype=object)),
                                {"type": "category"}, threshold)
    for f in [*results, *([pred] if pred else [])]:
        _require(f, len(frame), min_rows, min_feature_rows)
    results.sort(key=_severity, reverse=True)
    return DriftReport(
        model=model or str(profile.get("model") or ""),
        version=version,
        method=method,
        threshold=threshold,
        source=source,
        rows=len(frame),
        reference_rows=int(profile.get("rows") or 0),
        features=results,
        prediction=pred,
        checked_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        min_rows=min_rows,
        min_feature_rows=min_feature_rows,
    )


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
