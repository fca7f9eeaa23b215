"""The retraining loop through Git: a drifted newer dataset becomes a branch, a commit pushed to
a real (bare) origin and a pull request on a local GitHub stand-in; its plan gives the drift as
the reason the model retrains. Never a push to the default branch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.builders import git
from tests.monitoring.fake_github import TOKEN, FakePulls, fake_pulls
from tests.monitoring.monitor_builders import build_applied, copy_applied, shifted_csv
from tests.registry.registry_builders import context, dvc

# Real DVC runs, training or Git registries in every test: left out of the fast suite.
pytestmark = pytest.mark.slow



@pytest.fixture
def gh() -> Iterator[FakePulls]:
    with fake_pulls() as state:
        yield state


@pytest.fixture(scope="module")
def applied_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_applied(tmp_path_factory.mktemp("applied-template"))


@pytest.fixture
def loop_repo(applied_template: Path, tmp_path: Path) -> Path:
    """A repository after a real apply (data tracked by DVC, v1 registered with its profile), with a bare origin."""
    return copy_applied(applied_template, tmp_path)


def _retrain(cli: Any, root: Path, gh: FakePulls) -> Any:
    return cli("retrain", "iris", "--repo", "acme/models", "--api-url", gh.url, repo=root,
                     env={"GITHUB_TOKEN": TOKEN, "GITHUB_STEP_SUMMARY": ""})


def test_drifted_newer_data_becomes_a_pull_request(cli: Any, loop_repo: Path, gh: FakePulls) -> None:
    original = (loop_repo / "data/iris.csv").read_text()
    (loop_repo / "incoming/iris.csv").write_text(shifted_csv(1.5), encoding="utf-8")
    res = _retrain(cli, loop_repo, gh)
    assert res.exit_code == 0, res.output
    assert len(gh.pulls) == 1
    pr = gh.pulls[0]
    assert pr["base"] == "main" and pr["head"].startswith("mlopsctl/retrain-iris-")
    assert "drift: psi" in pr["title"] and "petal_width" in pr["title"]
    assert "<!-- mlopsctl:drift model=iris -->" in pr["body"] and "| `petal_width` |" in pr["body"]
    assert "opened pull request #1" in res.stderr
    # the branch is on origin; main there is untouched
    origin = loop_repo.parent / "origin.git"
    assert git(origin, "rev-parse", "main") == git(loop_repo, "rev-parse", "main")
    changed = git(origin, "diff", "--name-only", "main", pr["head"]).split()
    assert sorted(changed) == ["data/iris.csv.dvc", "monitoring/iris/last-drift.json"]
    record = json.loads(git(origin, "show", f"{pr['head']}:monitoring/iris/last-drift.json"))
    assert record["drifted"] is True and record["data"]["path"] == "data/iris.csv" and record["version"] == 1
    # the working tree is back on main with main's data
    assert git(loop_repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert (loop_repo / "data/iris.csv").read_text() == original
    assert not (loop_repo / "monitoring").exists()
    # the same data again: the open pull request is updated, not duplicated
    again = _retrain(cli, loop_repo, gh)
    assert again.exit_code == 0, again.output
    assert len(gh.pulls) == 1 and "updated the open pull request #1" in again.stderr


def test_the_pull_requests_plan_gives_drift_as_the_reason(cli: Any, loop_repo: Path, gh: FakePulls) -> None:
    from mlopsctl.monitoring.warnings import drift_reason

    (loop_repo / "incoming/iris.csv").write_text(shifted_csv(1.5), encoding="utf-8")
    assert _retrain(cli, loop_repo, gh).exit_code == 0
    branch = gh.pulls[0]["head"]
    assert drift_reason(context(loop_repo), "iris") is None  # main: no committed check
    git(loop_repo, "checkout", "-q", branch)
    dvc(loop_repo, "checkout", "-q")
    reason = drift_reason(context(loop_repo), "iris")
    assert reason is not None and reason.startswith("drift: psi ") and "> 0.2 on petal_width" in reason
    from mlopsctl.core.plan import compute_plan

    plan = compute_plan(context(loop_repo), targets=["stage.iris.train"])
    stage = plan.get("stage.iris.train")
    assert stage is not None and stage.action.value != "no-op"
    assert any(r.startswith("drift: psi") for r in stage.reasons), stage.reasons
    assert any("data/iris.csv" in r for r in stage.reasons), stage.reasons


def test_no_drift_no_pull_request(cli: Any, loop_repo: Path, gh: FakePulls) -> None:
    (loop_repo / "incoming/iris.csv").write_text(shifted_csv(0.0, seed=0, rows_per_class=30), encoding="utf-8")
    res = _retrain(cli, loop_repo, gh)
    assert res.exit_code == 0, res.output
    assert gh.pulls == [] and ("nothing to propose" in res.stderr or "already holds" in res.stderr)
    assert git(loop_repo, "branch", "--list", "mlopsctl/*") == ""


def test_too_few_rows_never_propose_retraining(cli: Any, loop_repo: Path, gh: FakePulls) -> None:
    (loop_repo / "incoming/iris.csv").write_text(shifted_csv(3.0, rows_per_class=10), encoding="utf-8")
    res = _retrain(cli, loop_repo, gh)
    assert res.exit_code == 0, res.output
    assert "not enough data (30 rows, need 200)" in res.stderr and "nothing to propose" in res.stderr
    assert gh.pulls == [] and git(loop_repo, "branch", "--list", "mlopsctl/*") == ""


def test_uncommitted_changes_are_never_touched(cli: Any, loop_repo: Path, gh: FakePulls) -> None:
    (loop_repo / "incoming/iris.csv").write_text(shifted_csv(1.5), encoding="utf-8")
    spec = loop_repo / "models/iris.yaml"
    spec.write_text(spec.read_text() + "# my edit\n", encoding="utf-8")
    res = _retrain(cli, loop_repo, gh)
    assert res.exit_code == 1 and "uncommitted changes" in res.stderr
    assert spec.read_text().endswith("# my edit\n") and gh.pulls == []


def test_without_retrain_data_it_says_where_to_set_it(cli: Any, repo: Path, gh: FakePulls) -> None:
    res = _retrain(cli, repo, gh)
    assert res.exit_code == 1 and "monitor.retrain.data" in res.stderr and "models/iris.yaml:" in res.stderr
