"""The data contract's verdict without pandas, for the plan.

The plan checks the data contract of every stage that would run. Importing pandas for it costs
more than a whole no-op plan of 1,000 models, and almost always the data is fine. So the plan
asks :func:`clean` first: True only when :func:`mlopsctl.training.contract.check` certainly
passes on the file. It reads a strict subset of CSV that pandas reads the same way (UTF-8, no
quotes, no tabs, one field per header column, numbers in plain decimal notation, pandas' own
empty-value words) and answers False ("not sure") for anything else: a violation, or a file
outside that subset. Then the caller runs the full check with pandas, which also words every
violation with its lines. So nothing bad gets through, and no error is worded twice.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from mlopsctl.specs.model_spec import DEFAULT_TASK
from mlopsctl.workspace.csvhead import MAX_COLUMNS, MAX_HEADER_BYTES

FAST_MAX_BYTES = 8 * 1024 * 1024
"""Bigger files go straight to pandas: past a few MB its C parser beats the import it costs."""

NA_WORDS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
    "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})
"""pandas' default NA strings (``keep_default_na``); a test compares them with the installed pandas."""

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_NUMERIC = ("float", "int")


class _Unsure(Exception):
    """Outside what this reader decides: the full check must."""


def clean(path: Path | str, params: dict[str, Any]) -> bool:
    """True when the data at ``path`` certainly satisfies the contract in ``params`` (the stage's
    training params); False when it breaks it or when only the full check can tell."""
    try:
        columns = _read(path)
        _check(columns, params)
    except (_Unsure, TypeError, ValueError, AttributeError):
        return False  # odd params too: the full check says what is wrong with them
    return True


def _read(path: Path | str) -> dict[str, list[str]]:
    """Columns by header name, cells as pandas reads them with ``dtype=str, skipinitialspace``."""
    try:
        if os.path.getsize(path) > FAST_MAX_BYTES:
            raise _Unsure
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError, ValueError):
        raise _Unsure from None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            raise _Unsure
        text = text.replace("\r\n", "\n")
    if not text or text[0] == "\ufeff" or any(c in text for c in '"\t\x00\x0b\x0c'):
        raise _Unsure
    lines = text.split("\n")
    header_line = lines[0]
    if len(header_line.encode("utf-8")) > MAX_HEADER_BYTES:
        raise _Unsure
    names = [f.lstrip(" ") for f in header_line.split(",")]
    width = len(names)
    if width > MAX_COLUMNS or "" in names or len(set(names)) != width:
        raise _Unsure  # pandas renames empty and repeated names
    cells: list[list[str]] = []
    for line in lines[1:]:
        if not line.strip(" "):
            continue  # pandas skips blank lines
        fields = line.split(",")
        if len(fields) != width:
            raise _Unsure  # padded, or an index column pandas would infer
        cells.append([f.lstrip(" ") for f in fields])
    return {name: [row[i] for row in cells] for i, name in enumerate(names)}


def _number(cell: str) -> float:
    if not _NUMBER.fullmatch(cell):
        raise _Unsure
    value = float(cell)
    if math.isinf(value):
        raise _Unsure
    return value


def _check(columns: dict[str, list[str]], params: dict[str, Any]) -> None:
    features: dict[str, Any] = params.get("features") or {}
    target = str((params.get("data") or {}).get("target") or "")
    task = params.get("task") or DEFAULT_TASK
    rows = len(next(iter(columns.values()), []))
    for name, rule in features.items():
        rule = rule or {}
        if name not in columns:
            if rule.get("required", True):
                raise _Unsure
            continue
        _check_feature(columns[name], rule, rows)
    if not target or target not in columns:
        raise _Unsure
    raw = columns[target]
    if any(cell in NA_WORDS for cell in raw):
        raise _Unsure
    sensitive = list(((params.get("fairness") or {}).get("sensitive")) or [])
    if any(col not in columns for col in sensitive):
        raise _Unsure
    if task == "regression":
        _check_split(len({_number(cell) for cell in raw}), None, rows, params)
    else:
        counts = Counter(raw)
        _check_split(len(counts), counts, rows, params)


def _check_feature(raw: list[str], rule: dict[str, Any], rows: int) -> None:
    ftype = str(rule.get("type") or "float")
    present = [cell for cell in raw if cell not in NA_WORDS]
    if ftype in _NUMERIC:
        lo = None if rule.get("min") is None else float(rule["min"])
        hi = None if rule.get("max") is None else float(rule["max"])
        for cell in present:
            value = _number(cell)
            if (ftype == "int" and value % 1 != 0) or (lo is not None and value < lo) or (
                    hi is not None and value > hi):
                raise _Unsure
    elif ftype == "bool":
        if any(cell.strip().lower() not in _TRUE and cell.strip().lower() not in _FALSE for cell in present):
            raise _Unsure
    elif ftype == "category" and rule.get("values") is not None:
        allowed = {str(a) for a in rule["values"]}
        if any(cell not in allowed for cell in present):
            raise _Unsure
    limit = float(rule.get("max_null_fraction", 0) or 0)
    nulls = rows - len(present)
    if rows and nulls / rows > limit + 1e-12:
        raise _Unsure


def _check_split(distinct: int, counts: Counter[str] | None, rows: int, params: dict[str, Any]) -> None:
    """What :func:`mlopsctl.training.target.target_violations` refuses, as a yes/no."""
    if not rows or distinct < 2 or (counts is None and distinct < 3):
        raise _Unsure  # a regression target of two values is left to pandas' own number parsing
    cv = params.get("cv")
    split = params.get("split") or {}
    if cv:
        folds = int(cv.get("folds", 5))
        if (counts is not None and min(counts.values()) < folds) or (counts is None and rows < folds):
            raise _Unsure
        return
    size = split.get("test_size", 0.25)
    n_test = math.ceil(float(size) * rows) if isinstance(size, float) and size < 1 else int(size)
    n_train = rows - n_test
    if n_test < 1 or n_train < 1:
        raise _Unsure
    stratified = counts is not None and split.get("stratify")
    if stratified and counts and (min(counts.values()) < 2 or n_test < len(counts) or n_train < len(counts)):
        raise _Unsure
