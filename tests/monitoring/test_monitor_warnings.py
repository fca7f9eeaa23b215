"""``plan`` warns about a deployed model whose last drift check found drift - cheaply."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.monitoring.monitor_builders import shifted_csv
from tests.registry.registry_builders import context

# Real DVC runs, training or Git registries in every test: left out of the fast suite.
pytestmark = pytest.mark.slow



def test_warns_after_a_drifted_check_until_a_newer_version(cli: Any, served: Path) -> None:
    from mlopsctl.monitoring.warnings import plan_warnings

    assert plan_warnings(context(served)) == []
    (served / "new.csv").write_text(shifted_csv(0.0), encoding="utf-8")
    assert cli("drift", "iris", "--data", "new.csv", repo=served).exit_code == 0
    assert plan_warnings(context(served)) == []  # checked, no drift
    (served / "new.csv").write_text(shifted_csv(1.5), encoding="utf-8")
    assert cli("drift", "iris", "--data", "new.csv", repo=served).exit_code == 0
    [warning] = plan_warnings(context(served))
    assert warning.startswith("iris v1: the last drift check (new.csv, ") and "drift: psi" in warning
    assert "on petal_width" in warning and "`mlopsctl drift iris --data new.csv`" in warning
    # a newer version registered since: the drift was answered by retraining
    from tests.monitoring.monitor_builders import train_with_profile
    from tests.registry.registry_builders import register, track

    (served / "data/iris.csv").write_text(shifted_csv(1.5), encoding="utf-8")
    train_with_profile(served)
    track(served, message="retrain")
    register(served)
    assert plan_warnings(context(served)) == []


def test_not_for_models_that_are_not_deployed(cli: Any, served: Path) -> None:
    from mlopsctl.monitoring.state import local_path
    from mlopsctl.monitoring.warnings import plan_warnings
    from tests.monitoring.monitor_builders import MONITOR
    from tests.registry.registry_builders import set_model

    (served / "new.csv").write_text(shifted_csv(1.5), encoding="utf-8")
    assert cli("drift", "iris", "--data", "new.csv", repo=served).exit_code == 0
    assert local_path(served, "iris", None).is_file() and plan_warnings(context(served))
    set_model(served, monitor=MONITOR)  # no serve section: nothing deployed, nothing to warn about
    assert plan_warnings(context(served)) == []


def test_warnings_module_imports_nothing_heavy() -> None:
    code = ("import sys, mlopsctl.monitoring.warnings; "
            "print(sorted(m for m in ('numpy', 'pandas', 'sklearn', 'dvc', 'docker', 'rich', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
