"""``mlopsctl validate`` end to end: text, JSON, GitHub annotations, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BAD_PARAMS = ("  params:\n    n_estimators: 20\n    random_state: 0\n", "  params: [20, 0]\n")


def break_spec(repo: Path) -> None:
    spec = repo / "models/iris.yaml"
    text = spec.read_text()
    assert BAD_PARAMS[0] in text
    spec.write_text(text.replace(BAD_PARAMS[0], BAD_PARAMS[1]).replace("estimator:", "estimater: {}\nestimator:"))


def test_ok(cli: Any) -> None:
    result = cli("validate")
    assert result.exit_code == 0
    assert result.stdout == "OK: 1 project, 1 model\n"


def test_problems_in_text(cli: Any, repo: Path) -> None:
    break_spec(repo)
    result = cli("validate")
    assert result.exit_code == 1
    out = result.stdout
    assert "models/iris.yaml:26:1: estimater: unknown key 'estimater' (did you mean 'estimator'?)" in out
    assert "models/iris.yaml:29:3: estimator.params: expected a mapping, got a list\n" in out
    assert " > 29 |   params: [20, 0]" in out
    assert out.rstrip().endswith("2 problems in 1 file.")
    assert "::error" not in out


def test_json(cli: Any, repo: Path) -> None:
    assert json.loads(cli("validate", "--format", "json").stdout) == {"valid": True, "problems": []}
    break_spec(repo)
    result = cli("validate", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["valid"] is False
    assert doc["problems"][1] == {
        "file": "models/iris.yaml", "line": 29, "column": 3, "path": "estimator.params",
        "message": "expected a mapping, got a list", "hint": None,
    }


def test_github_annotations(cli: Any, repo: Path) -> None:
    break_spec(repo)
    result = cli("validate", env={"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(repo.parent)})
    assert result.exit_code == 1
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("::error")]
    assert lines == [
        ("::error file=repo/models/iris.yaml,line=26,col=1,title=mlopsctl::estimater: unknown key 'estimater' "
         "(did you mean 'estimator'?)"),
        "::error file=repo/models/iris.yaml,line=29,col=3,title=mlopsctl::estimator.params: expected a mapping, got a list",
    ]
    assert "::error" not in cli("validate", "--format", "json", env={"GITHUB_ACTIONS": "true"}).stdout


def test_annotation_escaping() -> None:
    from mlopsctl.ci.annotations import annotation
    from mlopsctl.errors import Location, Problem

    p = Problem(Location("models/a,b:c.yaml", 1, 2), "100% wrong\nreally", path="x")
    assert annotation(p, root=Path("/nowhere")) == (
        "::error file=models/a%2Cb%3Ac.yaml,line=1,col=2,title=mlopsctl::x: 100%25 wrong%0Areally"
    )


def test_no_project(cli: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("validate", repo=empty)
    assert result.exit_code == 1
    assert "no mlops.yaml in" in result.stderr


def test_validate_stays_light(repo: Path) -> None:
    """validate imports none of the heavy libraries (measured in a fresh interpreter)."""
    code = (
        "import sys\n"
        "from mlopsctl.cli import main\n"
        "try:\n"
        f"    main(['-C', {str(repo)!r}, 'validate'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = ('dvc', 'docker', 'sklearn', 'git', 'pandas', 'numpy')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("[]"), out.stdout
