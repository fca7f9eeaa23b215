"""estimator.class is imported only from allowed modules, and nothing an import prints reaches stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlopsctl.errors import SpecError
from mlopsctl.training.estimators import import_class
from tests.builders import make_repo, run_mlopsctl

# The standard library's ``this`` prints the Zen of Python when imported.
ZEN = "Beautiful is better than ugly."

NOISY_SRC = '''
import os
import sys

print("noisy: imported")
os.write(1, b"noisy: straight to fd 1\\n")

from sklearn.tree import DecisionTreeClassifier


class Noisy(DecisionTreeClassifier):
    pass
'''


def test_a_module_outside_the_allowed_prefixes_is_never_imported(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mlops.yaml").write_text("kind: Project\n")
    with pytest.raises(SpecError, match="'this.Estimator' is not from an allowed module") as info:
        import_class(tmp_path, "this.Estimator", spec_path="models/iris.yaml")
    assert "estimators.allow" in (info.value.problems[0].hint or "")
    out, err = capfd.readouterr()
    assert ZEN not in out + err


def test_allowed_prefixes_match_whole_module_names(tmp_path: Path) -> None:
    from mlopsctl.training.estimators import allowed_prefixes, is_allowed

    (tmp_path / "mlops.yaml").write_text("kind: Project\nestimators:\n  allow: [lightgbm.sklearn]\n")
    prefixes = allowed_prefixes(tmp_path)
    assert is_allowed("sklearn.ensemble", prefixes) and is_allowed("src.models", prefixes)
    assert is_allowed("lightgbm.sklearn", prefixes) and is_allowed("lightgbm.sklearn.x", prefixes)
    assert not is_allowed("sklearnx", prefixes) and not is_allowed("lightgbm", prefixes)
    assert not is_allowed("srcevil", prefixes)


def _plan_json(root: Path) -> tuple[int, dict[str, object], str]:
    proc = run_mlopsctl(["plan", "--format", "json"], root)
    return proc.returncode, json.loads(proc.stdout), proc.stderr  # stdout must be JSON and nothing else


@pytest.mark.slow
def test_plan_refuses_an_unlisted_module_and_keeps_stdout_json(tmp_path: Path) -> None:
    root = make_repo(tmp_path, model={"estimator": {"class": "this.Estimator", "params": {}}})
    code, plan, err = _plan_json(root)
    assert code == 1  # the stage is blocked, and says why
    assert "'this.Estimator' is not from an allowed module" in json.dumps(plan)
    assert ZEN not in err


@pytest.mark.slow
def test_what_an_allowed_import_prints_goes_to_stderr(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path,
        project={"estimators": {"allow": ["this"]}},
        model={"estimator": {"class": "src.noisy.Noisy", "params": {"n_estimators": None, "max_depth": 2}}},
        files={"src/__init__.py": "", "src/noisy.py": NOISY_SRC},
    )
    code, plan, err = _plan_json(root)
    assert code == 0, err
    assert "noisy: imported" in err and "noisy: straight to fd 1" in err

    # An allow-listed module is imported, its output on stderr too.
    (root / "models" / "iris.yaml").write_text(
        (root / "models" / "iris.yaml").read_text().replace("src.noisy.Noisy", "this.Estimator"))
    code, plan, err = _plan_json(root)
    assert ZEN in err
    assert "module 'this' has no class 'Estimator'" in json.dumps(plan)
