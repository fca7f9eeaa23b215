"""Bring one deployment on Docker to the wanted server without refusing a request.

Containers of ``deployment.<model>.<env>`` (``N`` = ``mlopsctl-<project>-<model>-<env>``):

- ``N``: the front, on the environment's port (``serving/front.py``);
- ``N-a`` and ``N-b``: servers, at most one of them live (the one the upstream file names).

A switch starts the new server in the free slot, waits for its /health, points the front at it
and only then stops the old server (after a short grace for connections in flight). Whatever
kill -9 interrupts, the next run finds the live server through the upstream file, removes the
other slot and carries on: the old server keeps serving until the new one is proven.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError
from mlopsctl.serving import containers as ct
from mlopsctl.serving import front, ports

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

SLOTS = ("a", "b")
DRAIN_SECONDS = 1.0
"""Between pointing the front at the new server and stopping the old: connections already relayed finish."""


def front_name(project: str, model: str, env: str) -> str:
    return f"mlopsctl-{project}-{model}-{env}"


def network_name(project: str) -> str:
    return f"mlopsctl-{project}"


@dataclass(frozen=True)
class Wanted:
    """What one deployment should run."""

    project: str
    model: str
    env: str
    port: int
    image: str
    """Image id (or ``repository@sha256:...``) of the version to serve."""
    labels: dict[str, str]
    """Labels of the server: project, model, environment, version, context digest, capture."""
    same: Callable[[Container], bool]
    """Whether a running server already is what is wanted (same image context and settings)."""
    describe: Callable[[Container], str]
    """"v3" for a server, in messages."""
    extra: dict[str, Any] = field(default_factory=dict)
    """More ``containers.run`` arguments for the server (request capture's mount and environment)."""


@dataclass
class Found:
    front: Container | None
    live: Container | None
    others: list[Container]


def find(client: DockerClient, project: str, model: str, env: str) -> Found:
    """The front, the live server (named by the upstream file) and any other server container."""
    return find_with(lambda n: ct.get(client, n), project, model, env)


def find_with(get: Callable[[str], Any], project: str, model: str, env: str) -> Found:
    """:func:`find` with ``get(name)`` giving a container or None: docker-py's, or the view a
    plan reads through the engine's API (:func:`mlopsctl.serving.engine.inspect`)."""
    name = front_name(project, model, env)
    upstream = front.read_upstream(project, model, env)
    live, others = None, []
    for slot in SLOTS:
        c = get(f"{name}-{slot}")
        if c is None:
            continue
        if c.name == upstream and live is None:
            live = c
        else:
            others.append(c)
    for legacy in ("-next", "-prev"):  # servers of the layout before fronts
        c = get(name + legacy)
        if c is not None:
            others.append(c)
    return Found(get(name), live, others)


def _free_slot(live: Container | None, name: str) -> str:
    if live is not None and live.name == f"{name}-a":
        return f"{name}-b"
    return f"{name}-a"


def running(client: DockerClient) -> list[dict[str, Any]]:
    """The running containers in the list API's shape (``Names``, ``Labels``, published ``Ports``),
    through docker-py: what :func:`mlopsctl.serving.ports.describe_holder` reads."""
    return [{"Names": ["/" + c.name], "Labels": c.labels, "Ports": _ports(c)} for c in client.containers.list()]


def _check_port(client: DockerClient, w: Wanted) -> None:
    listed = running(client)
    holder = ports.describe_holder(w.port, listed, f"mlopsctl.project={w.project}")
    if holder is not None:
        raise MlopsError(
            f"127.0.0.1:{w.port} is already in use by {holder}: stop it, or serve {w.model} in {w.env} on another "
            f"port (serve.{w.env}.port in the model spec, or environments.{w.env}.port in mlops.yaml)"
        )


def _ports(c: Container) -> list[dict[str, Any]]:
    out = []
    for binds in ((c.attrs.get("NetworkSettings") or {}).get("Ports") or {}).values():
        for b in binds or []:
            if b.get("HostPort"):
                out.append({"IP": b.get("HostIp"), "PublicPort": int(b["HostPort"])})
    return out


def converge(client: DockerClient, w: Wanted, log: Callable[[str], None]) -> Container:
    """Make the front on ``w.port`` relay to a healthy server of ``w``; returns that server."""
    name = front_name(w.project, w.model, w.env)
    network = network_name(w.project)
    ct.ensure_network(client, network, {"mlopsctl.project": w.project})
    found = find(client, w.project, w.model, w.env)
    for c in found.others:  # a switch interrupted before (or after) the front moved
        ct.remove(client, c.name)
    live = found.live
    fresh_front = not front.usable(found.front, w.port, w.project, w.model, w.env)
    if fresh_front:
        _check_port(client, w)  # before starting anything: a port held elsewhere is the user's to free
    if live is not None and w.same(live) and live.status != "running":
        live.start()  # stopped by hand: the same server again
    if live is not None and w.same(live) and ct.wait_healthy(live, ct.health_timeout()) is None:
        server, old = live, None
    else:
        server = ct.run(client, w.image, _free_slot(live, name), w.labels, None, network=network, **w.extra)
        problem = ct.wait_healthy(server, ct.health_timeout())
        if problem:
            text = ct.logs(server)
            ct.remove(client, server.name)
            keeps = (f"{w.describe(live)} keeps serving on 127.0.0.1:{w.port}" if live is not None
                     and live.status == "running" else "nothing was switched")
            raise MlopsError(f"{w.describe(server)} never became healthy ({problem}); {keeps}.\n"
                             f"Container log:\n{text}")
        old = live
    front.prepare(w.project, w.model, w.env)
    front.write_upstream(w.project, w.model, w.env, server.name)
    if fresh_front:
        if found.front is not None:
            ct.remove(client, name)  # a stopped or moved front, or a server of the layout before fronts
        labels = {k: v for k, v in w.labels.items() if k in ("mlopsctl.project", "mlopsctl.model", "mlopsctl.env")}
        f = front.start(client, name, w.image, labels, w.port, network, w.project, w.model, w.env)
        problem = ct.wait_healthy(f, ct.health_timeout())
        if problem:
            text = ct.logs(f)
            raise MlopsError(f"the front {name} on 127.0.0.1:{w.port} is not healthy ({problem}).\n"
                             f"Container log:\n{text}")
        log(f"front {name} listening on 127.0.0.1:{w.port}")
    if old is not None and old.name != server.name:
        time.sleep(DRAIN_SECONDS)
        with contextlib.suppress(Exception):  # removed just below either way
            old.stop(timeout=10)  # SIGTERM: the server finishes the requests it has
        ct.remove(client, old.name)
    return server
