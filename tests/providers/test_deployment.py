"""The deployment provider's planning without an engine (engine tests: tests/engine/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core.model import Action
from mlopsctl.errors import MlopsError, UnavailableError
from mlopsctl.providers.deployment import DeploymentProvider
from mlopsctl.serving import buildctx as bctx
from tests.serving.serving_repo import context, fit, new_repo, register


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = new_repo(tmp_path_factory.mktemp("dep"), project="demo", base="python:3.11-slim",
                    envs={"staging": 8101, "production": 8102},
                    serve={"staging": {"version": "latest"}, "production": {"version": 1}})
    pipe = fit(root)
    register(root, pipe, 1)
    register(root, pipe, 2)
    return root


def _plan(repo: Path, env: str, actual: dict[str, Any] | None, **kw: Any):  # type: ignore[no-untyped-def]
    ctx = context(repo, **kw)
    p = DeploymentProvider()
    resource = next(r for r in p.expand(ctx) if r.name == f"iris.{env}")
    return p.diff(resource.address, resource, actual, ctx), ctx


def _running(repo: Path, version: int, port: int, **extra: Any) -> dict[str, Any]:
    ctx = context(repo)
    from mlopsctl.registry.api import model_registry

    mv = model_registry(ctx, "iris").resolve(version)
    assert mv is not None
    digest = bctx.build_context(ctx, "iris", mv).digest
    return {"container": "c", "status": "running", "version": version, "context": bctx.short(digest), "port": port,
            "front": "ok", **extra}


def test_expand_one_deployment_per_served_environment(repo: Path) -> None:
    ctx = context(repo)
    resources = {r.address: r for r in DeploymentProvider().expand(ctx)}
    assert set(resources) == {"deployment.iris.staging", "deployment.iris.production"}
    assert resources["deployment.iris.production"].desired == {"model": "iris", "env": "production", "version": 1,
                                                               "port": 8102}


def test_unknown_environment_names_the_spec_line(repo: Path) -> None:
    ctx = context(repo, serve={"qa": {"version": 1}})
    with pytest.raises(MlopsError, match=r"models/iris.yaml:\d+:\d+: serve.qa: no environment 'qa' in mlops.yaml"):
        list(DeploymentProvider().expand(ctx))


def test_drift_and_changes_are_read_from_the_actual_state(repo: Path) -> None:
    change, _ = _plan(repo, "production", _running(repo, 1, 8102))
    assert change.action is Action.NOOP
    change, _ = _plan(repo, "production", None)
    assert change.action is Action.CREATE and change.reasons == ("container missing: start v1 on 127.0.0.1:8102",)
    change, _ = _plan(repo, "production", _running(repo, 1, 8102, status="exited", exit_code=0))
    assert change.action is Action.UPDATE and "container stopped by hand" in change.reasons[0]
    change, _ = _plan(repo, "production", _running(repo, 1, 8102, status="exited", exit_code=3))
    assert change.action is Action.UPDATE and "exited with code 3" in change.reasons[0]
    change, _ = _plan(repo, "staging", _running(repo, 1, 8101))
    assert change.action is Action.REPLACE and change.reasons == ("version 1 -> 2",)
    change, _ = _plan(repo, "production", _running(repo, 1, 9000, health="unhealthy"))
    assert change.action is Action.REPLACE and change.reasons == ("port 9000 -> 8102", "container unhealthy")
    from mlopsctl.serving import engine

    # "needs a Docker engine" only when none answers.
    assert change.requires == (None if engine.available() else "a Docker engine")


def test_without_engine_plan_shows_it_and_apply_stops(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    ctx = context(repo)
    p = DeploymentProvider()
    resource = next(iter(p.expand(ctx)))
    actual = p.read(resource.address, resource, ctx)
    change = p.diff(resource.address, resource, actual, ctx)
    assert change.action is Action.CREATE and change.requires == "a Docker engine"
    from mlopsctl.serving.engine import plan_warnings

    [warning] = plan_warnings(ctx)  # once per plan, saying how to start one
    assert f"No Docker engine is reachable at unix://{tmp_path}/none.sock" in warning
    assert "scripts/engine-up.sh" in warning and "DOCKER_HOST" in warning
    assert list(p.existing(ctx)) == []
    change = change.with_(payload={"desired": resource.desired})
    with pytest.raises(UnavailableError, match="no Docker engine is reachable"):
        p.apply(change, ctx)


def test_removed_environment_is_deleted(repo: Path) -> None:
    ctx = context(repo)
    change = DeploymentProvider().diff("deployment.iris.old", None, _running(repo, 1, 8103), ctx)
    assert change.action is Action.DELETE
    assert change.reasons == ("remove the container (environment no longer served by the specs)",)
