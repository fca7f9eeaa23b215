"""The plan's pandas-free contract verdict never passes data the full check refuses.

Compared with the full check (pandas) on the same files: hand-picked shapes pandas reads in its
own way, and a few hundred generated files with one or two defects each.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.errors import MlopsError
from mlopsctl.training.contract import check_file
from mlopsctl.training.csvcontract import NA_WORDS, clean
from tests.builders import iris_like_csv

FEATURES = {
    "sepal_length": {"type": "float", "min": 0, "max": 100},
    "sepal_width": {"type": "float", "min": 0, "max": 100},
    "petal_length": {"type": "float", "min": 0, "max": 100},
    "petal_width": {"type": "float", "min": 0, "max": 100},
}


def _params(**over: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"spec": "models/m.yaml", "task": "classification",
                              "data": {"path": "data/m.csv", "target": "species"},
                              "features": dict(FEATURES), "split": {"test_size": 0.25, "stratify": True}}
    params.update(over)
    return params


def _full(root: Path, params: dict[str, Any]) -> bool:
    try:
        check_file(root, params)
    except MlopsError:
        return False
    return True


def _write(root: Path, text: str | bytes) -> Path:
    path = root / "data" / "m.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def test_na_words_are_pandas_own() -> None:
    from pandas._libs.parsers import STR_NA_VALUES

    assert set(STR_NA_VALUES) == NA_WORDS


def test_good_data_is_decided_without_pandas(tmp_path: Path) -> None:
    path = _write(tmp_path, iris_like_csv())
    assert clean(path, _params()) is True
    assert _full(tmp_path, _params())
    crlf = _write(tmp_path, iris_like_csv().replace("\n", "\r\n").replace(",", ", "))
    assert clean(crlf, _params()) is True


GOOD = iris_like_csv(rows_per_class=8).splitlines()

# Each: (why, the file's text, params overrides). Whatever the verdict of the full check, the
# quick one may say True only when the full one passes.
EDGE_CASES: list[tuple[str, str | bytes, dict[str, Any]]] = [
    ("below min", "\n".join([*GOOD[:3], "-1,3.0,1.0,0.2,setosa", *GOOD[3:]]) + "\n", {}),
    ("above max", "\n".join([*GOOD, "101,3.0,1.0,0.2,setosa"]) + "\n", {}),
    ("inf", "\n".join([*GOOD, "inf,3.0,1.0,0.2,setosa"]) + "\n", {}),
    ("huge number", "\n".join([*GOOD, "1e400,3.0,1.0,0.2,setosa"]) + "\n", {}),
    ("text in a number", "\n".join([*GOOD, "abc,3.0,1.0,0.2,setosa"]) + "\n", {}),
    ("trailing space", "\n".join([*GOOD, "1.5 ,3.0,1.0,0.2,setosa"]) + "\n", {}),
    ("underscore", "\n".join([*GOOD, "1_5,3.0,1.0,0.2,setosa"]) + "\n", {}),
    ("NA word", "\n".join([*GOOD, "NA,3.0,1.0,0.2,setosa"]) + "\n", {}),
    ("NA word allowed", "\n".join([*GOOD, "NA,3.0,1.0,0.2,setosa"]) + "\n",
     {"features": {**FEATURES, "sepal_length": {"type": "float", "max_null_fraction": 0.5}}}),
    ("empty target", "\n".join([*GOOD, "1,3.0,1.0,0.2,"]) + "\n", {}),
    ("quoted", "\n".join([*GOOD, '"1.0",3.0,1.0,0.2,"setosa"']) + "\n", {}),
    ("padded row", "\n".join([*GOOD, "1,3.0,1.0,0.2"]) + "\n", {}),
    ("extra field", "\n".join([*GOOD, "1,3.0,1.0,0.2,setosa,x"]) + "\n", {}),
    ("blank lines", "\n".join([GOOD[0], "", *GOOD[1:], "   "]) + "\n", {}),
    ("tab", "\n".join([*GOOD, "1\t,3.0,1.0,0.2,setosa"]) + "\n", {}),
    ("lone CR", "\r".join(GOOD) + "\r", {}),
    ("BOM", ("\ufeff" + "\n".join(GOOD) + "\n").encode("utf-8"), {}),
    ("not UTF-8", ("\n".join(GOOD) + "\n").encode("utf-8") + b"1,3,1,0.2,s\xe9tosa\n", {}),
    ("duplicate header", "\n".join([GOOD[0].replace("sepal_width", "sepal_length"), *GOOD[1:]]) + "\n", {}),
    ("missing column", "\n".join(line.rsplit(",", 2)[0] + "," + line.rsplit(",", 1)[1] for line in GOOD) + "\n", {}),
    ("optional column missing",
     "\n".join(line.split(",", 1)[1] for line in GOOD) + "\n",
     {"features": {**FEATURES, "sepal_length": {"type": "float", "required": False}}}),
    ("one class", "\n".join(line for line in GOOD if not line.endswith(("versicolor", "virginica"))) + "\n", {}),
    ("class of one row", "\n".join([*[line for line in GOOD if not line.endswith("virginica")],
                                    GOOD[3]]) + "\n", {}),
    ("header only", GOOD[0] + "\n", {}),
    ("empty file", "", {}),
    ("int column", "\n".join(GOOD) + "\n",
     {"features": {**FEATURES, "petal_width": {"type": "int"}}}),
    ("bool column", "\n".join([GOOD[0] + ",flag", *[g + (",yes" if i % 2 else ", FALSE ") for i, g in
                                                    enumerate(GOOD[1:])]]) + "\n",
     {"features": {**FEATURES, "flag": {"type": "bool"}}}),
    ("category values", "\n".join(GOOD) + "\n", {"features": {**FEATURES, "species_copy": None}}),
    ("cv folds", "\n".join(GOOD) + "\n", {"cv": {"folds": 9}}),
    ("cv folds fine", "\n".join(GOOD) + "\n", {"cv": {"folds": 3}}),
    ("regression", "\n".join([GOOD[0].replace("species", "y"),
                              *[g.rsplit(",", 1)[0] + f",{i * 0.5}" for i, g in enumerate(GOOD[1:])]]) + "\n",
     {"task": "regression", "data": {"path": "data/m.csv", "target": "y"}}),
    ("regression constant", "\n".join([GOOD[0].replace("species", "y"),
                                       *[g.rsplit(",", 1)[0] + ",1.0" for g in GOOD[1:]]]) + "\n",
     {"task": "regression", "data": {"path": "data/m.csv", "target": "y"}}),
    ("sensitive missing", "\n".join(GOOD) + "\n", {"fairness": {"sensitive": ["group"]}}),
    ("test size too big", "\n".join(GOOD) + "\n", {"split": {"test_size": 0.99, "stratify": True}}),
    ("odd params", "\n".join(GOOD) + "\n", {"split": {"test_size": "a lot"}}),
]


@pytest.mark.parametrize(("why", "text", "over"), EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_the_quick_verdict_never_passes_what_the_full_check_refuses(tmp_path: Path, why: str, text: str | bytes,
                                                                    over: dict[str, Any]) -> None:
    params = _params(**over)
    params["features"] = {k: v for k, v in params["features"].items() if v is not None}
    path = _write(tmp_path, text)
    try:
        full = _full(tmp_path, params)
    except Exception:  # noqa: BLE001 - odd params may trip the full check itself: it decides, not us
        full = False
    if clean(path, params):
        assert full, f"{why}: the quick verdict passed data the full check refuses"


_CELLS = ["", "NA", "nan", "None", "-1", "101", "1e2", "1.", ".5", "+2", "1_0", "inf", "-inf", " 3", "3 ", "x",
          "0", "100", "100.0000001", "1e-300", "-0", "True", "yes", "n", "maybe"]


def test_generated_files_agree_with_the_full_check(tmp_path: Path) -> None:
    rng = random.Random(12)
    decided = 0
    for case in range(300):
        lines = iris_like_csv(rows_per_class=rng.choice([1, 2, 5, 10]), seed=case).splitlines()
        for _ in range(rng.choice([0, 0, 1, 2])):
            row = rng.randrange(1, len(lines))
            cells = lines[row].split(",")
            cells[rng.randrange(len(cells))] = rng.choice(_CELLS + ["setosa", "versicolor"])
            lines[row] = ",".join(cells)
        features = dict(FEATURES)
        if rng.random() < 0.3:
            features["petal_width"] = {"type": rng.choice(["int", "bool", "category"]),
                                       "max_null_fraction": rng.choice([0, 0.1]), "values": ["0.2", "1.3"]}
        split = {"test_size": rng.choice([0.25, 0.5, 2, 10]), "stratify": rng.random() < 0.7}
        params = _params(features=features, split=split)
        if rng.random() < 0.2:
            params["cv"] = {"folds": rng.choice([2, 3, 5])}
        path = _write(tmp_path, "\n".join(lines) + "\n")
        full = _full(tmp_path, params)
        quick = clean(path, params)
        assert not (quick and not full), f"case {case}: quick verdict passed refused data:\n" + "\n".join(lines)
        decided += quick
    assert decided > 60  # most files are decided without pandas
