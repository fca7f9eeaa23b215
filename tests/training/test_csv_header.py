"""A CSV whose header row is absurdly wide is refused at once, at its line, before pandas reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.errors import MlopsError
from mlopsctl.workspace.csvhead import MAX_COLUMNS, check_header
from tests.builders import make_repo, run_mlopsctl

WIDE = 2_000_000  # a 4 MB first row of commas


def test_a_header_of_millions_of_fields_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(b"a," * (WIDE - 1) + b"a\n1\n")
    with pytest.raises(MlopsError, match=rf"^data/wide.csv:1: the header row has {WIDE:,} fields; at most"):
        check_header(path, "data/wide.csv")


def test_quoted_commas_do_not_count_as_fields(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text('"' + "," * (MAX_COLUMNS + 5) + '",b\n1,2\n')
    check_header(path, "quoted.csv")


def test_a_header_line_without_end_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(b"x" * (5 * 1024 * 1024))
    with pytest.raises(MlopsError, match=r"^long.csv:1: the header row is longer than 4 MB"):
        check_header(path, "long.csv")


@pytest.mark.slow
@pytest.mark.timeout(120)  # the point: it must not hang
def test_plan_refuses_a_csv_with_millions_of_header_fields(tmp_path: Path) -> None:
    root = make_repo(tmp_path, files={"data/iris.csv": "a," * (WIDE - 1) + "a\n1\n"})
    proc = run_mlopsctl(["plan"], root, timeout=110)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert f"data/iris.csv:1: the header row has {WIDE:,} fields" in out
    assert "Traceback" not in out and "unexpected" not in out
