"""Switches on Docker: no refused request, ports held elsewhere, leftovers of failed or killed runs.

Uses the session's ``serving`` repository (v1 and v2 serve; v3 never gets healthy).
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from mlopsctl.core.apply import execute
from mlopsctl.core.model import Action, Plan
from mlopsctl.core.plan import diff_one
from mlopsctl.core.state import Journal
from mlopsctl.errors import ApplyError, MlopsError
from mlopsctl.providers.deployment import DeploymentProvider, container_name
from tests.serving.serving_repo import free_ports
from tests.serving.switch_client import Client

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def health(port: int) -> dict[str, Any] | None:
    import json

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as resp:
            return dict(json.loads(resp.read()))
    except (urllib.error.URLError, OSError):
        return None


def test_promotion_rollback_and_new_version_refuse_no_request(images: Any, serving: Any) -> None:
    [port] = free_ports(1)
    envs = {"zd": port}
    serving.converge(serving.ctx({"zd": 1}, envs), "deployment")
    with Client(port).running() as client:
        for version in (2, 1, 2):  # promotion, rollback, and the newest version again
            [change] = serving.converge(serving.ctx({"zd": version}, envs), "deployment")
            assert change.action is Action.REPLACE
            deadline = time.monotonic() + 30
            while version not in client.versions and time.monotonic() < deadline:
                time.sleep(0.05)
    assert client.sent > 50
    assert client.failed == []
    assert client.versions == {1, 2}


def test_port_held_by_another_process_is_named_and_the_next_apply_converges(images: Any, serving: Any,
                                                                           docker_client: Any) -> None:
    [port] = free_ports(1)
    ctx = serving.ctx({"held": 1}, {"held": port})
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    try:
        [change] = serving.plan(ctx, "deployment")
        assert change.blocked is not None
        assert change.blocked.startswith(f"127.0.0.1:{port} is already in use by another process (pid ")
        with pytest.raises(MlopsError) as err:
            DeploymentProvider().apply(change, ctx)
        assert f"127.0.0.1:{port} is already in use by another process (pid " in str(err.value)
        assert "serve.held.port in the model spec" in str(err.value)
        name = container_name(ctx, "iris", "held")
        assert docker_client.containers.list(all=True, filters={"name": name}) == []  # nothing half-made
    finally:
        holder.close()
    [change] = serving.converge(serving.ctx({"held": 1}, {"held": port}), "deployment")
    assert change.action is Action.CREATE and change.blocked is None
    assert health(port) == {"status": "ok", "model": "iris", "version": 1}


def test_a_container_left_in_state_created_does_not_break_the_next_apply(images: Any, serving: Any, docker_client: Any) -> None:
    [port] = free_ports(1)
    ctx = serving.ctx({"created": 1}, {"created": port})
    name = container_name(ctx, "iris", "created")
    image = docker_client.images.get(f"mlopsctl/{serving.project}-iris:v1")
    for suffix in ("", "-a"):  # what a start that failed on a taken port used to leave behind
        docker_client.containers.create(image.id, name=name + suffix, labels={
            "mlopsctl.project": serving.project, "mlopsctl.model": "iris", "mlopsctl.env": "created"})
    serving.converge(ctx, "deployment")
    assert health(port) == {"status": "ok", "model": "iris", "version": 1}
    [again] = serving.plan(serving.ctx({"created": 1}, {"created": port}), "deployment")
    assert again.action is Action.NOOP, again.reasons


def test_an_interrupted_switch_converges(images: Any, serving: Any, docker_client: Any) -> None:
    """The states kill -9 can leave: a new server started but not yet live, or live with the old one still up."""
    from mlopsctl.serving import front

    [port] = free_ports(1)
    envs = {"killed": port}
    serving.converge(serving.ctx({"killed": 1}, envs), "deployment")
    ctx = serving.ctx({"killed": 2}, envs)
    name = container_name(ctx, "iris", "killed")
    old = docker_client.containers.get(name + "-a")
    # Killed after starting v2 in the free slot, before the front moved: v1 still serves.
    docker_client.containers.run(f"mlopsctl/{serving.project}-iris:v2", name=name + "-b", detach=True,
                                 labels=dict(old.labels, **{"mlopsctl.version": "2"}))
    assert health(port)["version"] == 1  # type: ignore[index]
    serving.converge(ctx, "deployment")
    assert health(port)["version"] == 2  # type: ignore[index]
    names = sorted(c.name for c in docker_client.containers.list(all=True, filters={"name": name}))
    assert names == [name, name + "-b"]  # the stray one was removed, v2 started afresh, v1 is gone
    # Killed after the front moved, before the old server was removed.
    serving.converge(serving.ctx({"killed": 1}, envs), "deployment")
    live = front.read_upstream(ctx.project.name, "iris", "killed")
    assert live == name + "-a"
    docker_client.containers.run(f"mlopsctl/{serving.project}-iris:v2", name=name + "-b", detach=True,
                                 labels=dict(old.labels, **{"mlopsctl.version": "2"}))
    [change] = serving.plan(serving.ctx({"killed": 1}, envs), "deployment")
    assert change.action is Action.NOOP  # the live server is v1; the other slot is only a leftover
    serving.converge(serving.ctx({"killed": 2}, envs), "deployment")
    assert health(port)["version"] == 2  # type: ignore[index]
    assert len(docker_client.containers.list(all=True, filters={"name": name})) == 2


def test_assignment_moves_only_once_the_deployment_is_healthy(images: Any, serving: Any) -> None:
    from mlopsctl.registry.api import forget, model_registry

    [port] = free_ports(1)
    envs = {"truth": port}

    def apply(version: int) -> None:
        ctx = serving.ctx({"truth": version}, envs)
        changes = [*serving.plan(ctx, "deployment"), *serving.plan(ctx, "registry")]
        changes = [c.with_(depends_on=r.depends_on) for c in changes
                   for r in [_resource(ctx, c.address)]]
        execute(ctx, Plan(changes=tuple(changes), pins={}), Journal(ctx.state_dir))

    apply(1)
    ctx = serving.ctx({"truth": 1}, envs)
    assert model_registry(ctx, "iris").assignments["truth"].version == 1
    with pytest.raises(ApplyError) as err:
        apply(3)
    assert "deployment.iris.truth" in str(err.value)
    assert "registry.iris.truth: not attempted (depends on deployment.iris.truth" in str(err.value)
    forget(ctx)
    assert model_registry(ctx, "iris").assignments["truth"].version == 1
    assert health(port)["version"] == 1  # type: ignore[index]
    # `models` shows what is assigned and what serves, with the engine's health verdict.
    import re

    from tests.builders import run_mlopsctl

    out = run_mlopsctl(["models", "iris"], serving.root)
    assert out.returncode == 0, out.stderr
    assert re.search(rf"^  truth: assigned v1, serving v1 \((healthy|starting)\) on 127.0.0.1:{port}$",
                     out.stdout, re.MULTILINE), out.stdout


def _resource(ctx: Any, address: str) -> Any:
    from mlopsctl.core.plan import expand

    return expand(ctx)[address]


def test_another_checkout_on_this_engine_sees_the_same_deployment(images: Any, serving: Any, docker_client: Any,
                                                                 tmp_path: Any) -> None:
    """The live server is named in the engine's folder on this machine, not in a checkout: a second
    checkout (a teammate's clone, a self-hosted runner's fresh clone) plans no change, switches with
    no refused request, and the first checkout then sees the switch; removing a checkout never takes
    the front's routing with it."""
    import shutil

    from mlopsctl.serving import front
    from tests.serving.serving_repo import context

    [port] = free_ports(1)
    envs = {"shared": port}
    serving.converge(serving.ctx({"shared": 1}, envs), "deployment")
    other = tmp_path / "other"
    shutil.copytree(serving.root, other, symlinks=True, ignore=shutil.ignore_patterns(".mlopsctl"))

    def ctx_of(root: Any, version: int) -> Any:
        return context(root, serve={"shared": {"version": version}},
                       project={"environments": {"shared": {"port": port}}})

    [change] = serving.plan(ctx_of(other, 1), "deployment")
    assert change.action is Action.NOOP, change.reasons
    name = container_name(ctx_of(other, 1), "iris", "shared")
    mounts = {m["Destination"]: m["Source"] for m in docker_client.containers.get(name).attrs["Mounts"]}
    assert mounts[front.MOUNT] == str(front.folder(serving.project, "iris", "shared").resolve())
    assert str(serving.root) not in mounts[front.MOUNT] and str(other) not in mounts[front.MOUNT]
    with Client(port).running() as client:
        [change] = serving.converge(ctx_of(other, 2), "deployment")  # promoted from the second checkout
        assert change.action is Action.REPLACE
        deadline = time.monotonic() + 30
        while 2 not in client.versions and time.monotonic() < deadline:
            time.sleep(0.05)
    assert client.failed == [] and client.versions == {1, 2}
    [seen] = serving.plan(serving.ctx({"shared": 2}, envs), "deployment")  # the first checkout sees v2 live
    assert seen.action is Action.NOOP, seen.reasons
    shutil.rmtree(other)  # the second checkout removed (a runner's workspace cleaned)
    assert health(port)["version"] == 2  # type: ignore[index]
    gone = serving.ctx({"shared": 2}, envs, destroy=True)
    removal = diff_one(gone, "deployment.iris.shared", None)
    assert removal.action is Action.DELETE
    DeploymentProvider().delete(removal, gone)
    assert not front.folder(serving.project, "iris", "shared").exists()  # destroy removes it
    assert front.home(serving.project).exists() == any(front.home(serving.project).glob("*"))  # and an empty parent
