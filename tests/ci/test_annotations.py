"""Spec problems as GitHub workflow commands, escaped as the runner parses them."""

from __future__ import annotations

from mlopsctl.ci.annotations import annotation, escape_data, escape_property, format_annotations
from mlopsctl.errors import Location, Problem


def test_one_problem_with_location_path_and_hint() -> None:
    p = Problem(Location("models/iris.yaml", 12, 3), "unknown key 'estimater'", path="estimater",
                hint="did you mean 'estimator'?")
    assert annotation(p) == (
        "::error file=models/iris.yaml,line=12,col=3,title=mlopsctl::"
        "estimater: unknown key 'estimater' (did you mean 'estimator'?)"
    )


def test_escaping_of_data_and_properties() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("C:\\a,b") == "C%3A\\a%2Cb"
    p = Problem(Location("odd,name:x.yaml", 1), "line one\nline two: 100%")
    line = annotation(p, level="warning")
    assert line == "::warning file=odd%2Cname%3Ax.yaml,line=1,title=mlopsctl::line one%0Aline two: 100%25"
    assert "\n" not in line


def test_without_line_and_many_problems() -> None:
    problems = [Problem(Location("mlops.yaml"), "empty file"), Problem(Location("models/a.yaml", 2, 1), "bad")]
    text = format_annotations(problems)
    assert text.splitlines() == [
        "::error file=mlops.yaml,title=mlopsctl::empty file",
        "::error file=models/a.yaml,line=2,col=1,title=mlopsctl::bad",
    ]
    assert format_annotations([]) == ""
