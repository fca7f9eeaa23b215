"""The data contract: the spec's ``features`` (and target) checked against the data before any
training starts.

A violation names the column, the rule, how many rows break it and a few example rows by
their line in the CSV (line 1 is the header, so the first data row is line 2), which is what
a person needs to go and fix the data. The same check runs at plan time (when the stage
would run anyway) and in the trainer, so a bad dataset is refused before it costs a fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError
from mlopsctl.specs.model_spec import DEFAULT_TASK

if TYPE_CHECKING:
    import pandas as pd

NUMERIC = ("float", "int", "bool")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
EXAMPLES = 3


@dataclass(frozen=True)
class Violation:
    column: str
    rule: str
    count: int
    lines: tuple[int, ...] = ()
    """Example rows by CSV line number (header = line 1)."""
    values: tuple[str, ...] = ()
    """The offending values at those lines, when there is one to show."""

    def format(self) -> str:
        text = f"column {self.column!r}: {self.rule}"
        if self.count:
            text += f" ({self.count} row{'s' if self.count != 1 else ''}"
            if self.lines:
                shown = [f"line {n}" + (f": {v!r}" if v else "") for n, v in
                         zip(self.lines, self.values or ("",) * len(self.lines), strict=False)]
                text += ", e.g. " + ", ".join(shown)
            text += ")"
        elif self.lines:
            text += f" (line {self.lines[0]}: the CSV header)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "rule": self.rule, "count": self.count, "lines": list(self.lines),
                "values": list(self.values)}


class ContractError(MlopsError):
    """The data breaks the spec's data contract: no training starts."""

    def __init__(self, data_path: str, spec_path: str, violations: list[Violation]) -> None:
        self.violations = violations
        body = "\n".join(f"  - {v.format()}" for v in violations)
        super().__init__(f"data contract violated: {data_path} does not satisfy the features of {spec_path}:\n{body}")


@dataclass
class Checked:
    """Typed training data after a passing check."""

    X: pd.DataFrame
    y: pd.Series
    rows: int
    columns: list[str] = field(default_factory=list)
    sensitive: pd.DataFrame | None = None
    """The sensitive columns (``fairness.sensitive``) as text, for per-group evaluation only."""


def read_csv(root: Path, data_path: str, spec_path: str) -> pd.DataFrame:
    """The CSV with every cell as text (None for empty/NA), so the check sees what was written."""
    import pandas as pd

    full = root / data_path
    if not full.is_file():
        raise MlopsError(f"{spec_path}: data.path: data file {data_path} does not exist")
    from mlopsctl.workspace.csvhead import check_header

    check_header(full, data_path, spec_path)
    try:
        return pd.read_csv(full, dtype=str, keep_default_na=True, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise MlopsError(f"{spec_path}: data file {data_path} is empty; expected a CSV with a header row") from None
    except UnicodeDecodeError as e:
        line = _line_of_byte(full, e.start)
        raise MlopsError(f"{data_path}:{line}: not UTF-8 text (the first bad byte is near line {line}); data files must be UTF-8 CSV "
                         f"({spec_path}: data.path)") from None
    except (pd.errors.ParserError, ValueError) as e:
        raise MlopsError(f"{spec_path}: data file {data_path} is not a readable CSV: {e}") from None
    except IsADirectoryError:
        raise MlopsError(f"{spec_path}: data.path: {data_path} is a folder; expected a data file") from None


def _line_of_byte(path: Path, offset: int) -> int:
    """The 1-based line that holds byte ``offset`` of ``path`` (for messages about one spot in a file)."""
    with open(path, "rb") as f:
        return f.read(offset).count(b"\n") + 1


def _examples(mask: pd.Series, raw: pd.Series | None = None) -> tuple[tuple[int, ...], tuple[str, ...]]:
    idx = list(mask[mask].index[:EXAMPLES])
    lines = tuple(int(i) + 2 for i in idx)
    values = tuple(str(raw.loc[i]) for i in idx) if raw is not None else ()
    return lines, values


def _violation(column: str, rule: str, mask: pd.Series, raw: pd.Series | None = None) -> Violation | None:
    count = int(mask.sum())
    if not count:
        return None
    lines, values = _examples(mask, raw)
    return Violation(column, rule, count, lines, values)


def _convert(raw: pd.Series, ftype: str) -> tuple[pd.Series, pd.Series]:
    """(typed values, mask of present cells that are not of the type)."""
    import pandas as pd

    present = raw.notna()
    if ftype in ("float", "int"):
        num = pd.to_numeric(raw, errors="coerce").astype("float64")
        bad = present & num.isna()
        if ftype == "int":
            bad = bad | (num.notna() & (num % 1 != 0))
        return num, bad
    if ftype == "bool":
        low = raw.str.strip().str.lower()
        num = pd.Series(float("nan"), index=raw.index, dtype="float64")
        num[low.isin(_TRUE)] = 1.0
        num[low.isin(_FALSE)] = 0.0
        return num, present & num.isna()
    return raw.astype(object), present & False


def check(df: pd.DataFrame, params: dict[str, Any], data_path: str, spec_path: str) -> Checked:
    """Check ``df`` (from :func:`read_csv`) against the contract in ``params``; typed X and y, or
    :class:`ContractError` listing every violation."""
    import pandas as pd

    features: dict[str, dict[str, Any]] = params.get("features") or {}
    target = str((params.get("data") or {}).get("target") or "")
    task = params.get("task") or DEFAULT_TASK
    rows = len(df)
    violations: list[Violation] = []
    columns = [str(c) for c in df.columns]
    X = pd.DataFrame(index=df.index)
    for name, rule in features.items():
        rule = rule or {}
        ftype = str(rule.get("type") or "float")
        if name not in df.columns:
            if rule.get("required", True):
                violations.append(Violation(name, f"required column is missing (columns: {', '.join(columns)})", 0,
                                                (1,)))
            X[name] = pd.Series(float("nan") if ftype in NUMERIC else None, index=df.index,
                                dtype="float64" if ftype in NUMERIC else object)
            continue
        raw = df[name]
        values, bad = _convert(raw, ftype)
        v = _violation(name, f"type {ftype}: not a valid {ftype}", bad, raw)
        if v:
            violations.append(v)
        if ftype in ("float", "int"):
            v = _violation(name, "finite: inf is not a number a model can use", values.abs() == float("inf"), raw)
            if v:
                violations.append(v)
            for key, op in (("min", "lt"), ("max", "gt")):
                if rule.get(key) is None:
                    continue
                limit = float(rule[key])
                mask = (values < limit) if op == "lt" else (values > limit)
                v = _violation(name, f"{key} {rule[key]}: value {'below' if op == 'lt' else 'above'} {rule[key]}",
                               mask.fillna(False), raw)
                if v:
                    violations.append(v)
        if ftype == "category" and rule.get("values") is not None:
            allowed = {str(a) for a in rule["values"]}
            mask = raw.notna() & ~raw.isin(allowed)
            v = _violation(name, f"values: not one of {sorted(allowed)}", mask, raw)
            if v:
                violations.append(v)
        nulls = raw.isna()
        limit = float(rule.get("max_null_fraction", 0) or 0)
        if rows and nulls.sum() / rows > limit + 1e-12:
            frac = nulls.sum() / rows
            lines, _ = _examples(nulls)
            violations.append(Violation(name, f"max_null_fraction {limit:g}: {frac:.1%} of values are empty",
                                        int(nulls.sum()), lines))
        X[name] = values
    y: pd.Series = pd.Series(dtype=object)
    if not target:
        violations.append(Violation("(target)", "data.target is not set", 0))
    elif target not in df.columns:
        violations.append(Violation(target, f"target column is missing (columns: {', '.join(columns)})", 0,
                                        (1,)))
    else:
        raw = df[target]
        v = _violation(target, "target: empty value", raw.isna())
        if v:
            violations.append(v)
        if task == "regression":
            y, bad = _convert(raw, "float")
            v = _violation(target, "target: not a number (task is regression)", bad, raw)
            if v:
                violations.append(v)
            v = _violation(target, "target: inf is not a number a model can learn", y.abs() == float("inf"), raw)
            if v:
                violations.append(v)
        else:
            y = raw.astype(object)
        if not any(v.column == target for v in violations):
            from mlopsctl.training.target import target_violations

            violations += target_violations(target, y, raw, params)
    sensitive = None
    wanted = list(((params.get("fairness") or {}).get("sensitive")) or [])
    missing = [c for c in wanted if c not in df.columns]
    for name in missing:
        violations.append(Violation(name, f"sensitive column (fairness.sensitive) is missing "
                                          f"(columns: {', '.join(columns)})", 0))
    if wanted and not missing:
        sensitive = df[wanted].copy()
    if violations:
        raise ContractError(data_path, spec_path, violations)
    return Checked(X=X, y=y, rows=rows, columns=columns, sensitive=sensitive)


def check_file(root: Path, params: dict[str, Any]) -> Checked:
    """Read the model's data file and check it (the plan and the trainer both call this)."""
    data_path = str((params.get("data") or {}).get("path") or "")
    spec_path = str(params.get("spec") or "")
    return check(read_csv(root, data_path, spec_path), params, data_path, spec_path)
