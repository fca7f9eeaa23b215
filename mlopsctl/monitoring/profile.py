"""The reference profile stored with each version: ``artifacts/<model>/profile.json``.

Training writes it next to the model (:func:`write_profile`), inside the DVC out, so it travels
with the version to the DVC cache and remote; its md5 and sha256 go into the version's lineage
(``lineage.profile``) so ``drift`` fetches it like the model and checks its digest first.

Per feature: missing share, and for numeric features the :data:`~mlopsctl.monitoring.stats.BINS`
reference quantile bins (inner edges + shares), summary statistics and a bounded sample for the
KS test; for categorical ones the category counts. The model's predictions on the same rows get
the same treatment (class counts for classification, quantile bins for regression).

The KS sample: at most :data:`SAMPLE_SIZE` non-missing values per numeric feature, drawn without
replacement with a fixed seed (numpy ``default_rng(0)``), stored sorted. KS is computed against
this sample, not the full training data; the scipy cross-check in the tests uses the same sample.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError
from mlopsctl.monitoring import stats

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

FORMAT = 1
PROFILE_NAME = "profile.json"
SAMPLE_SIZE = 5_000
SAMPLE_SEED = 0
PREDICTION_SAMPLE = 20_000
"""The prediction distribution is profiled on at most this many training rows (fixed seed), so
profiling costs a bounded predict, not a second pass over a large training set."""
NUMERIC_TYPES = ("float", "int")
"""bool is profiled as a category (true/false): bins over two values say nothing quantiles can't."""


def profile_path(model: str) -> str:
    return f"artifacts/{model}/{PROFILE_NAME}"


def is_numeric(rule: dict[str, Any] | None) -> bool:
    return str((rule or {}).get("type") or "float") in NUMERIC_TYPES


_TRUE = {"true", "1", "1.0", "yes", "y", "t"}
_FALSE = {"false", "0", "0.0", "no", "n", "f"}


def category_key(value: Any) -> str:
    """Categories are compared as text, so 1, "1" and 1.0 from CSV, JSON and pandas agree."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def category_keys(series: pd.Series, ftype: str) -> pd.Series:
    """The comparable text of each present value (missing values dropped; a value that is not a
    bool where one is expected becomes None). Vectorised for the common column types: a million
    rows must not mean a million Python calls."""
    import numpy as np
    import pandas as pd

    present = series[series.notna()]
    kind = present.dtype.kind
    if ftype == "bool":
        if kind == "b":
            return present.map({True: "true", False: "false"})
        text = present.astype(str).str.strip().str.lower()
        table = {**{t: "true" for t in _TRUE}, **{f: "false" for f in _FALSE}}
        return text.map(table).astype(object).where(text.isin(table), None)
    if kind in "iu":
        return present.astype(str)
    if kind == "f":
        values = present.to_numpy()
        whole = np.isfinite(values) & (values == np.floor(values)) & (np.abs(values) < 2**53)
        out = present.astype(str).to_numpy(dtype=object)
        out[whole] = values[whole].astype(np.int64).astype(str)
        return pd.Series(out, index=present.index, dtype=object)
    if pd.api.types.infer_dtype(present, skipna=True) == "string":
        return present
    return present.map(category_key)


def numeric_summary(values: np.ndarray, missing: int) -> dict[str, Any]:
    """Bins, summary statistics and the bounded sample of one numeric column (NaN = missing)."""
    import numpy as np

    present = values[~np.isnan(values)]
    total = present.size + missing
    out: dict[str, Any] = {"kind": "numeric", "count": int(total), "missing": (missing / total) if total else 0.0}
    if present.size == 0:
        return {**out, "edges": [], "shares": [], "sample": [], "sample_of": 0}
    edges = stats.quantile_edges(present)
    if present.size > SAMPLE_SIZE:
        rng = np.random.default_rng(SAMPLE_SEED)
        sample = np.sort(rng.choice(present, SAMPLE_SIZE, replace=False))
    else:
        sample = np.sort(present)
    return {
        **out,
        "edges": edges,
        "shares": [float(s) for s in stats.shares(stats.bin_counts(present, edges))],
        "min": float(present.min()),
        "max": float(present.max()),
        "mean": float(present.mean()),
        "std": float(present.std()),
        "sample": [float(v) for v in sample],
        "sample_of": int(present.size),
    }


def categorical_summary(values: pd.Series, ftype: str = "category") -> dict[str, Any]:
    total = len(values)
    keys = category_keys(values, ftype)
    counts = keys[keys.notna()].value_counts()
    return {
        "kind": "categorical",
        "count": total,
        "missing": (total - int(counts.sum())) / total if total else 0.0,
        "counts": {str(k): int(v) for k, v in counts.items()},
    }


def column_summary(series: pd.Series, rule: dict[str, Any] | None) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    if is_numeric(rule):
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
        return {"type": str((rule or {}).get("type") or "float"),
                **numeric_summary(values, int(np.isnan(values).sum()))}
    ftype = str((rule or {}).get("type") or "category")
    return {"type": ftype, **categorical_summary(series, ftype)}


def build_profile(
    X: pd.DataFrame, predictions: Any, features: dict[str, dict[str, Any]], task: str, model: str = ""
) -> dict[str, Any]:
    """The profile of training rows ``X`` (typed as the data contract gives them) and the model's
    predictions on those rows."""
    import pandas as pd

    prof: dict[str, Any] = {
        "format": FORMAT,
        "model": model,
        "task": task,
        "rows": len(X),
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "binning": {"bins": stats.BINS, "edges": "reference quantiles, open-ended outer bins",
                    "epsilon": stats.EPSILON, "sample_size": SAMPLE_SIZE, "sample_seed": SAMPLE_SEED},
        "features": {},
    }
    for name, rule in features.items():
        if name in X.columns:
            prof["features"][name] = column_summary(X[name], rule)
    if predictions is not None:
        pred = pd.Series(list(predictions) if not hasattr(predictions, "shape") else predictions)
        rule = {"type": "float"} if task == "regression" else {"type": "category"}
        prof["prediction"] = column_summary(pred, rule)
    return prof


def prediction_sample(X: pd.DataFrame, n: int = PREDICTION_SAMPLE) -> pd.DataFrame:
    """The rows whose predictions are profiled: all of them, or ``n`` drawn with a fixed seed."""
    return X if len(X) <= n else X.sample(n=n, random_state=SAMPLE_SEED)


def dumps(profile: dict[str, Any]) -> str:
    # repr-exact floats (json's default), so the sample read back is bit-for-bit the one drawn.
    return json.dumps(profile, sort_keys=True, separators=(",", ":")) + "\n"


def write_profile(
    artifacts_dir: Path, X: pd.DataFrame, predictions: Any, features: dict[str, dict[str, Any]], task: str,
    model: str = "",
) -> dict[str, str]:
    """Training's hook: write ``<artifacts_dir>/profile.json`` atomically; returns its record
    ``{"path", "md5", "sha256"}`` for the version's lineage (``lineage["profile"]``)."""
    from mlopsctl.workspace.fsafe import write_atomic

    text = dumps(build_profile(X, predictions, features, task, model or Path(artifacts_dir).name))
    target = Path(artifacts_dir) / PROFILE_NAME
    write_atomic(target, text)
    raw = text.encode("utf-8")
    rel = f"artifacts/{model or Path(artifacts_dir).name}/{PROFILE_NAME}"
    return {"path": rel, "md5": hashlib.md5(raw, usedforsecurity=False).hexdigest(),
            "sha256": hashlib.sha256(raw).hexdigest()}


def load_profile(path: Path, what: str = "profile") -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MlopsError(f"{what} {path} does not exist") from None
    except (OSError, ValueError) as e:
        raise MlopsError(f"{what} {path} is not readable JSON: {e}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("features"), dict):
        raise MlopsError(f"{what} {path} is not a profile mlopsctl {FORMAT} can read (format {data.get('format')!r})"
                         if isinstance(data, dict) else f"{what} {path} is not a profile")
    return data
