"""``mlopsctl models``: the registry as people and scripts read it; GTO reads the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.registry.registry_builders import assign, gto_show, register, retrain_and_register, set_model

# Real DVC runs, training or Git registries in every test: left out of the fast suite.
pytestmark = pytest.mark.slow



@pytest.fixture
def served(reg_repo: Path) -> Path:
    """v1 in production, v2 (latest) in staging."""
    register(reg_repo)
    retrain_and_register(reg_repo, columns=4)
    set_model(reg_repo, serve={"staging": {"version": "latest"}, "production": {"version": 1}})
    assign(reg_repo, "staging")
    assign(reg_repo, "production")
    return reg_repo


def test_json_agrees_with_gto(served: Path, cli: Any) -> None:
    result = cli("models", "--format", "json", repo=served)
    assert result.exit_code == 0, result.output
    ours = json.loads(result.stdout)["models"]["iris"]
    theirs = gto_show(served)["iris"]
    assert f"v{ours['latest']}.0.0" == theirs["version"]
    assert {env: f"v{n}.0.0" for env, n in ours["environments"].items()} == {
        env: v for env, v in theirs["stage"].items() if v
    }
    gto_versions = gto_show(served, "iris")
    assert sorted(v["version"] for v in gto_versions) == [f"v{v['version']}.0.0" for v in ours["versions"]]
    v1, v2 = ours["versions"]
    assert v1["environments"] == ["production"] and v2["environments"] == ["staging"]
    assert v2["metrics"] == {"accuracy": 1.0, "f1_macro": 1.0}
    assert v1["artifact"]["path"] == "artifacts/iris/model.joblib" and len(v1["artifact"]["sha256"]) == 64
    assert v1["lineage"]["data"]["path"] == "data/iris.csv"
    by_commit = {v["commit_hexsha"]: v["version"] for v in gto_versions}
    assert by_commit[v1["commit"]] == "v1.0.0" and by_commit[v2["commit"]] == "v2.0.0"


def test_text_lists_versions_metrics_stages_and_lineage(served: Path, cli: Any) -> None:
    result = cli("models", "iris", repo=served)
    assert result.exit_code == 0, result.output
    out = result.stdout
    # Assigned (the registry) and serving (the engine: nothing runs for this repository) apart.
    assert out.startswith("iris: 2 versions, latest v2\n  production: assigned v1, serving nothing\n"
                          "  staging: assigned v2, serving nothing\n")
    lines = out.splitlines()
    header = next(line for line in lines if "VERSION" in line)
    assert header.split() == ["VERSION", "REGISTERED", "COMMIT", "accuracy", "f1_macro", "ENVIRONMENTS"]
    row2 = next(line for line in lines if line.strip().startswith("v2 "))
    assert row2.split()[3:] == ["1", "1", "staging"]
    row1 = next(line for line in lines if line.strip().startswith("v1 "))
    assert row1.split()[3:] == ["0.913", "0.9106", "production"]
    assert any(line.strip().startswith("lineage v1: data data/iris.csv (sha256 ") for line in lines)
    assert "RandomForestClassifier(columns=2, n_estimators=10, random_state=0)" in out


def test_card(served: Path, cli: Any) -> None:
    result = cli("models", "iris", "--card", "--version", "1", repo=served)
    assert result.exit_code == 0, result.output
    card = result.stdout
    assert card.startswith("# Model card: iris v1\n")
    assert "iris species classifier" in card  # the spec's description
    assert "| Version | `iris@v1.0.0` |" in card
    assert "| Serving in | production |" in card
    assert "| accuracy | 0.9130 |" in card
    assert "| Path | `data/iris.csv` |" in card and "| Rows | 90 |" in card
    assert "| n_estimators | `10` |" in card
    assert "| sepal_length | float | >= 0; <= 100 |" in card
    for key in ("Code commit", "Python", "scikit-learn", "mlopsctl", "Spec digest"):
        assert f"| {key} | " in card
    assert "unknown" not in card.split("## Lineage")[1].split("## Artifact")[0]
    latest = cli("models", "iris", "--card", repo=served).stdout
    assert latest.startswith("# Model card: iris v2\n")


def test_card_of_unknown_version(served: Path, cli: Any) -> None:
    result = cli("models", "iris", "--card", "--version", "9", repo=served)
    assert result.exit_code == 1
    assert "iris has no registered version '9' (registered: v1, v2)" in result.stderr


def test_empty_registry(reg_repo: Path, cli: Any) -> None:
    result = cli("models", repo=reg_repo)
    assert result.exit_code == 0 and result.stdout == "No registered model versions yet.\n"
    result = cli("models", "iris", "--format", "json", repo=reg_repo)
    doc = json.loads(result.stdout)
    assert doc["models"]["iris"].pop("serving") in ({}, None)  # None: no engine to ask
    assert doc == {"models": {"iris": {"environments": {}, "latest": None, "versions": [],
                                       "registered_by_hand": [], "deprecated": None}}}


def test_console_script(served: Path, run_mlopsctl: Any) -> None:
    proc = run_mlopsctl(["models", "--format", "json"], served)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["models"]["iris"]["environments"] == {"production": 1, "staging": 2}
