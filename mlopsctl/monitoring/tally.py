"""The current rows counted chunk by chunk: a drift check never needs them all at once.

Every number of a drift report is a sum over rows: rows, missing and out-of-contract values,
values per reference bin, per category, and the KS counts of
:class:`~mlopsctl.monitoring.stats.KSCounts`. So a file of any size is read, predicted and
counted a chunk at a time, in memory bounded by the chunk, and comparing a whole DataFrame is the
one-chunk case of the same code: chunked or not, the numbers are the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlopsctl.monitoring import stats
from mlopsctl.monitoring.profile import category_keys

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class NumericTally:
    """One numeric feature (or the predictions of a regression model)."""

    def __init__(self, ref: dict[str, Any], rule: dict[str, Any]) -> None:
        import numpy as np

        self.edges = np.asarray(list(ref.get("edges") or []), dtype="float64")
        self.bins = np.zeros(self.edges.size + 1, dtype=np.int64)
        sample = np.asarray(ref.get("sample") or [], dtype="float64")
        self.ks = stats.KSCounts(sample) if sample.size else None
        self.low = float(rule["min"]) if rule.get("min") is not None else None
        self.high = float(rule["max"]) if rule.get("max") is not None else None
        self.rows = self.missing = self.values = self.bad = 0

    def add(self, col: pd.Series) -> None:
        """A chunk of the column as read: anything that is not a number counts as out of contract."""
        import numpy as np
        import pandas as pd

        if col.dtype == "float64":
            self.add_values(col.to_numpy())
            return
        raw_present = col.notna().to_numpy()
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64")
        self.bad += int((raw_present & np.isnan(values)).sum())
        self.add_values(values, missing=int((~raw_present).sum()))

    def add_values(self, values: np.ndarray, missing: int | None = None) -> None:
        """Numbers, NaN for missing (or ``missing`` of them, when NaN also marks values that were no number)."""
        import numpy as np

        ok = ~np.isnan(values)
        present = np.sort(values[ok] if not ok.all() else values)
        self.rows += int(values.size)
        self.missing += int(values.size - present.size) if missing is None else missing
        self.values += int(present.size)
        # Sorted once, every count is a search of a few reference points into the chunk.
        if self.low is not None:
            self.bad += int(np.searchsorted(present, self.low, side="left"))
        if self.high is not None:
            self.bad += int(present.size - np.searchsorted(present, self.high, side="right"))
        if present.size:
            at_or_below = np.searchsorted(present, self.edges, side="right")
            self.bins += np.diff(at_or_below, prepend=0, append=present.size)
            if self.ks is not None:
                self.ks.add(present, already_sorted=True)


class CategoryTally:
    """One categorical (or bool) feature, or a classifier's predictions: counts per category key."""

    def __init__(self, ftype: str, allowed: Any = None) -> None:
        self.ftype = ftype
        self.allowed = {str(v) for v in allowed} if allowed is not None else None
        self.counts: dict[str, int] = {}
        self.rows = self.missing = self.invalid = 0
        """``invalid``: present, but not a bool where a bool is expected."""

    def add(self, col: pd.Series) -> None:
        for key, count in self._key_counts(col):
            if key is None:
                self.invalid += count
            else:
                self.counts[key] = self.counts.get(key, 0) + count

    def _key_counts(self, col: pd.Series) -> list[tuple[str | None, int]]:
        import numpy as np
        import pandas as pd

        n = len(col)
        self.rows += n
        if (col.dtype.kind in "biuf" or isinstance(col.dtype, pd.StringDtype)
                or pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty")):
            # One key per distinct value, not per row: a column of one type holds no two distinct
            # values that count as one (an object column mixing 1, 1.0 and True would).
            codes, uniques = pd.factorize(col.to_numpy(dtype=object) if col.dtype.kind not in "biuf"
                                          else col.to_numpy(), use_na_sentinel=True)
            present = codes[codes >= 0]
            self.missing += n - int(present.size)
            counts = np.bincount(present, minlength=len(uniques))
            keys = category_keys(pd.Series(uniques), self.ftype)
            return list(zip(keys.tolist(), counts.tolist(), strict=True))
        keys = category_keys(col, self.ftype)
        self.missing += n - len(keys)
        invalid = int(keys.isna().sum())
        return [*keys[keys.notna()].value_counts().items(), *([(None, invalid)] if invalid else [])]

    @property
    def values(self) -> int:
        return sum(self.counts.values())

    @property
    def out_of_contract(self) -> int:
        outside = 0 if self.allowed is None else sum(c for k, c in self.counts.items() if k not in self.allowed)
        return self.invalid + outside
