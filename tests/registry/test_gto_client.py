"""GTO is a second client of the same registry: what a person does with ``gto`` by hand is read
exactly as ``gto show`` reads it, shown as registry drift where it differs from the specs, and
apply restores what the specs say (real Git tags, the real ``gto`` CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlopsctl.core.model import Action
from mlopsctl.providers.model import ModelProvider
from mlopsctl.providers.registry import RegistryProvider
from mlopsctl.registry.state import RegistryState
from tests.builders import git
from tests.registry.registry_builders import (
    assign,
    context,
    gto_show,
    plan_one,
    register,
    retrain_and_register,
    set_model,
)

GTO = str(Path(sys.executable).with_name("gto"))


def gto(root: Path, *args: str) -> None:
    # A person runs gto by hand at least a second after the last apply: tag times are whole seconds,
    # and GTO breaks ties between assignments of the same second differently from their counters.
    time.sleep(1.1)
    proc = subprocess.run([GTO, *args], cwd=root, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def stages(root: Path) -> dict[str, str]:
    """Environment -> version as ``gto show`` says, and as mlopsctl reads the same tags."""
    shown = gto_show(root).get("iris", {}).get("stage", {})
    reg = RegistryState.read(root).model("iris")
    ours = {env: mv.name for env, mv in reg.assignments.items()} if reg.deprecated is None else {}
    assert ours == shown, (ours, shown)
    return dict(shown)


def plan(root: Path, env: str):  # type: ignore[no-untyped-def]
    ctx = context(root)
    ctx.upstream["model.iris"] = plan_one(ModelProvider(), "model.iris", ctx)
    return plan_one(RegistryProvider(), f"registry.iris.{env}", ctx)


@pytest.fixture
def served(reg_repo: Path) -> Path:
    """v1 and v2 registered; the specs serve latest (v2) in staging and v1 in production."""
    register(reg_repo)
    retrain_and_register(reg_repo, columns=4)
    set_model(reg_repo, serve={"staging": {"version": "latest"}, "production": {"version": 1}})
    git(reg_repo, "commit", "-qam", "Serve staging and production")
    assign(reg_repo, "staging")
    assign(reg_repo, "production")
    assert stages(reg_repo) == {"staging": "v2.0.0", "production": "v1.0.0"}
    return reg_repo


@pytest.mark.slow
def test_hand_register_and_assign_is_drift_that_apply_restores(served: Path) -> None:
    root = served
    git(root, "commit", "-q", "--allow-empty", "-m", "Something else")
    gto(root, "register", "iris")  # v2.0.1, no mlopsctl record
    gto(root, "assign", "iris", "--version", "v2.0.1", "--stage", "production")
    assert stages(root) == {"staging": "v2.0.0", "production": "v2.0.1"}
    out = subprocess.run([sys.executable, "-m", "mlopsctl", "models", "iris", "--format", "json"], cwd=root,
                         capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)["models"]["iris"]
    assert doc["environments"] == {"staging": 2, "production": "v2.0.1"}
    assert [v["version"] for v in doc["registered_by_hand"]] == ["v2.0.1"]

    change = plan(root, "production")
    assert change.action is Action.UPDATE and not change.blocked
    assert change.reasons[0].startswith("production: v2.0.1 -> v1 (rollback")
    assert "registry drift: iris#production#" in change.reasons[1] and "written by hand (gto assign)" in change.reasons[1]
    assert plan(root, "staging").action is Action.NOOP  # a version by hand does not move "latest"
    assign(root, "production")
    assert stages(root) == {"staging": "v2.0.0", "production": "v1.0.0"}
    assert plan(root, "production").action is Action.NOOP


@pytest.mark.slow
def test_hand_unassign_and_deprecation_are_restored(served: Path) -> None:
    root = served
    gto(root, "deprecate", "iris", "v2.0.0", "staging")  # unassign by hand
    assert stages(root) == {"production": "v1.0.0"}
    change = plan(root, "staging")
    assert change.action is Action.CREATE and any("written by hand (gto deprecate)" in r for r in change.reasons)
    assign(root, "staging")
    assert stages(root) == {"staging": "v2.0.0", "production": "v1.0.0"}

    gto(root, "deprecate", "iris")  # the whole model: gto show no longer lists it
    assert gto_show(root) == {}
    change = plan(root, "production")
    assert change.action is Action.UPDATE
    assert "iris was deprecated by hand (iris@deprecated" in change.reasons[0]
    assign(root, "production")
    assign(root, "staging")
    assert stages(root) == {"staging": "v2.0.0", "production": "v1.0.0"}
    assert plan(root, "staging").action is Action.NOOP and plan(root, "production").action is Action.NOOP


@pytest.mark.slow
def test_a_served_version_deregistered_by_hand_is_blocked_with_the_way_back(served: Path) -> None:
    root = served
    gto(root, "deprecate", "iris", "v1.0.0")  # deregister v1, which production serves
    assert stages(root) == {"staging": "v2.0.0"}
    change = plan(root, "production")
    assert change.blocked and "v1 was deregistered by hand (iris@v1.0.0!" in change.blocked
    assert "git tag -d 'iris@v1.0.0!'" in change.blocked
    git(root, "tag", "-d", "iris@v1.0.0!")
    assert plan(root, "production").action is Action.NOOP
