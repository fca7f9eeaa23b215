from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlopsctl.errors import MlopsError
from mlopsctl.training.contract import ContractError, check_file

HEADER = "sepal_length,colour,flag,count,species"


def _params(**features: Any) -> dict[str, Any]:
    base = {
        "sepal_length": {"type": "float", "min": 0, "max": 10},
        "colour": {"type": "category", "values": ["red", "green"]},
        "flag": {"type": "bool"},
        "count": {"type": "int", "min": 0},
    }
    base.update(features)
    return {"spec": "models/m.yaml", "task": "classification", "data": {"path": "data/m.csv", "target": "species"},
            "features": {k: v for k, v in base.items() if v is not None}}


def _write(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "m.csv").write_text("\n".join([header, *rows]) + "\n")
    return tmp_path


GOOD = [f"{1 + i % 5}.5,{'red' if i % 2 else 'green'},{'true' if i % 3 else 'no'},{i},{'a' if i % 2 else 'b'}"
        for i in range(60)]


def test_valid_data_is_typed(tmp_path: Path) -> None:
    checked = check_file(_write(tmp_path, GOOD), _params())
    assert checked.rows == 60
    assert list(checked.X.columns) == ["sepal_length", "colour", "flag", "count"]
    assert checked.X["sepal_length"].dtype == "float64"
    assert set(checked.X["flag"]) == {0.0, 1.0}
    assert set(checked.y) == {"a", "b"}


def test_violations_list_column_rule_count_and_csv_lines(tmp_path: Path) -> None:
    rows = list(GOOD)
    rows[54] = "-3,red,true,1,a"  # data row 55 -> line 56 (header is line 1)
    rows[55] = "abc,red,true,1,a"
    rows[10] = "1.0,blue,true,1,b"
    rows[11] = "1.0,red,maybe,2.5,b"
    with pytest.raises(ContractError) as info:
        check_file(_write(tmp_path, rows), _params())
    by_rule = {(v.column, v.rule.split(":")[0]): v for v in info.value.violations}
    low = by_rule[("sepal_length", "min 0")]
    assert (low.count, low.lines, low.values) == (1, (56,), ("-3",))
    assert by_rule[("sepal_length", "type float")].lines == (57,)
    assert by_rule[("colour", "values")].values == ("blue",)
    assert by_rule[("flag", "type bool")].lines == (13,)
    assert by_rule[("count", "type int")].lines == (13,)
    msg = info.value.message
    assert msg.startswith("data contract violated: data/m.csv does not satisfy the features of models/m.yaml")
    assert "column 'sepal_length': min 0: value below 0 (1 row, e.g. line 56: '-3')" in msg


def test_nulls_beyond_the_allowed_fraction(tmp_path: Path) -> None:
    rows = list(GOOD)
    for i in (3, 7, 9):
        rows[i] = ",red,true,1,a"
    with pytest.raises(ContractError, match=r"max_null_fraction 0: 5.0% of values are empty \(3 rows, e.g. line 5, "
                                            r"line 9, line 11\)"):
        check_file(_write(tmp_path, rows), _params())
    # declared as allowed: passes
    params = _params(sepal_length={"type": "float", "max_null_fraction": 0.1})
    assert check_file(_write(tmp_path, rows), params).X["sepal_length"].isna().sum() == 3


def test_missing_columns_and_target(tmp_path: Path) -> None:
    rows = [r.rsplit(",", 1)[0] for r in GOOD]
    with pytest.raises(ContractError) as info:
        check_file(_write(tmp_path, rows, header="sepal_length,colour,flag,count"),
                   _params(weight={"type": "float"}, extra={"type": "float", "required": False}))
    text = info.value.message
    assert "column 'weight': required column is missing" in text
    assert "column 'species': target column is missing" in text
    assert "'extra'" not in text


def test_missing_or_empty_data_file(tmp_path: Path) -> None:
    with pytest.raises(MlopsError, match=r"models/m.yaml: data.path: data file data/m.csv does not exist"):
        check_file(tmp_path, _params())
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "m.csv").write_text("")
    with pytest.raises(MlopsError, match="is empty"):
        check_file(tmp_path, _params())
