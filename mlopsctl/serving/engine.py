"""The Docker engine: one place that connects to it and says clearly when it cannot.

Images and deployments need a running engine. Planning must still work without one (the plan
shows those changes with ``requires="a Docker engine"``), so :func:`available` is a cheap,
short-timeout probe, and :func:`client` raises :class:`UnavailableError` naming where it looked
and how to start one. docker-py is imported only here and only when called.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import UnavailableError
from mlopsctl.workspace import observe

if TYPE_CHECKING:
    from docker import DockerClient

    from mlopsctl.core.context import Context

REQUIRES = "a Docker engine"
"""The ``Change.requires`` text for changes that need an engine and found none."""
HOW_TO_START = ("start one (`sudo scripts/engine-up.sh` on Debian/Ubuntu, `sudo systemctl start docker`, or Docker "
                "Desktop) or point DOCKER_HOST at one")

_DEFAULT_HOST = "unix:///var/run/docker.sock"
_clients: dict[str, DockerClient] = {}


def docker_host() -> str:
    """Where the engine is expected (``DOCKER_HOST`` or the default socket)."""
    return os.environ.get("DOCKER_HOST") or _DEFAULT_HOST


def _unavailable(detail: str) -> UnavailableError:
    return UnavailableError(
        f"no Docker engine is reachable at {docker_host()}: {HOW_TO_START} ({detail})"
    )


def _socket_missing() -> bool:
    """True when the engine is a unix socket that does not exist: no need to even try."""
    host = docker_host()
    if host.startswith("unix://"):
        return not os.path.exists(host[len("unix://") :])
    return False


def client(timeout: float = 600) -> DockerClient:
    """A docker-py client that has answered a ping; UnavailableError otherwise.

    One client per engine address per process: every provider shares its connection pool.
    ``timeout`` is the per-request timeout (builds stream for minutes; keep it generous).
    """
    host = docker_host()
    cached = _clients.get(host)
    if cached is not None:
        return cached
    if _socket_missing():
        raise _unavailable("the socket does not exist")
    import docker
    from docker.errors import DockerException

    try:
        c = docker.DockerClient(base_url=host, timeout=int(timeout))
        c.ping()
    except DockerException as e:
        raise _unavailable(str(e).splitlines()[0] if str(e) else type(e).__name__) from None
    except OSError as e:  # connection refused, permission denied on the socket
        raise _unavailable(str(e)) from None
    _clients[host] = c
    return c


@dataclass
class EngineCheck:
    """The run's one answer to "is an engine reachable?" (None: no change needed one)."""

    reachable: bool | None = None


def requirement(ctx: Context) -> str | None:
    """What a change that needs the engine says it needs: nothing when one answers (asked once
    per run), else :data:`REQUIRES`; :func:`plan_warnings` then says how to start one."""
    check = ctx.memo(EngineCheck)
    if check.reachable is None:
        check.reachable = available()
    return None if check.reachable else REQUIRES


def plan_warnings(ctx: Context) -> list[str]:
    """Once per plan, when a change needed an engine and none answered: where we looked, how to start one."""
    if ctx.memo(EngineCheck).reachable is not False:
        return []
    return [(f"No Docker engine is reachable at {docker_host()}, so the image and deployment changes above "
            f"cannot be applied yet: {HOW_TO_START}.")]


def available(timeout: float = 2.0) -> bool:
    """Whether an engine answers ``/_ping`` within ``timeout`` seconds (no exception, ever).

    A probe (:mod:`mlopsctl.workspace.observe`): a reused plan asks it again.
    """
    return observe.probe("engine", ["ping"], lambda: _available(timeout))


def _available(timeout: float = 2.0) -> bool:
    """:func:`available`'s answer.

    Speaks HTTP over the socket with the standard library: planning only files must not pay
    for importing docker-py. TLS or SSH engines fall back to docker-py.
    """
    host = docker_host()
    if host in _clients:
        return True
    if _socket_missing():
        return False
    try:
        if host.startswith("unix://"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(host[len("unix://") :])
                s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
                status = s.recv(64).split(b"\r\n", 1)[0]
            return status.startswith(b"HTTP/1.") and status.split(b" ")[1:2] == [b"200"]
        if host.startswith(("tcp://", "http://")) and not os.environ.get("DOCKER_TLS_VERIFY"):
            return _ping_tcp(host, timeout)
    except (OSError, IndexError):
        return False
    return _available_via_docker_py(timeout)


def _ping_tcp(host: str, timeout: float) -> bool:
    import http.client  # only for an engine over TCP: a unix socket needs none of it

    conn = http.client.HTTPConnection(host.split("://", 1)[1].rstrip("/"), timeout=timeout)
    try:
        conn.request("GET", "/_ping")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException, IndexError):
        return False
    finally:
        conn.close()


def get_json(path: str, timeout: float = 10.0) -> Any:
    """:func:`_get_json` as a probe (:mod:`mlopsctl.workspace.observe`): a reused plan asks again."""
    return observe.probe("engine", ["get", path], lambda: _get_json(path, timeout))


def probe(what: str, *args: str) -> Any:
    """Ask the engine again what a recorded plan asked it (``ping``, ``get PATH``, or one of the
    reduced views: ``containers QUERY``, ``container NAME``, ``images LABEL``)."""
    if what == "ping":
        return _available()
    asks: dict[str, Callable[[str], Any]] = {"get": _get_json, "containers": _containers, "container": _inspect,
                                             "images": _images}
    return asks[what](args[0]) if what in asks and len(args) == 1 else None


def on_socket() -> bool:
    """The engine is on a unix socket: plans read it with the standard library (else docker-py)."""
    return docker_host().startswith("unix://")


def containers(filters: dict[str, list[str]], *, stopped: bool = False) -> list[dict[str, Any]] | None:
    """The engine's containers matching ``filters`` (``all=1`` with ``stopped``), each reduced to
    what plans read: ``Names``, ``Labels``, ``State`` and published ``Ports``. A probe whose
    answer does not move with uptime ("Up 3 minutes"), so a plan of served models can be reused.
    None when the engine is not on a unix socket (callers then use :func:`client`)."""
    query = ("all=1&" if stopped else "") + "filters=" + urllib.parse.quote(json.dumps(filters, sort_keys=True))
    return observe.probe("engine", ["containers", query], lambda: _containers(query))


def _containers(query: str) -> list[dict[str, Any]] | None:
    listed = _get_json(f"/containers/json?{query}")
    if listed is None:
        return None
    return [{"Names": c.get("Names"), "Labels": c.get("Labels"), "State": c.get("State"), "Ports": c.get("Ports")}
            for c in listed]


def inspect(name: str) -> Seen | None:
    """The container ``name`` as a plan sees it (None: there is none); a probe. Only on a unix
    socket (see :func:`on_socket`)."""
    attrs = observe.probe("engine", ["container", name], lambda: _inspect(name))
    return Seen(attrs) if attrs else None


def _inspect(name: str) -> dict[str, Any] | None:
    """What plans read of a container's inspect view; its health verdict, not its health log
    (which grows with every check)."""
    a = _get_json(f"/containers/{urllib.parse.quote(name, safe='')}/json", missing_ok=True)
    if not isinstance(a, dict):
        return None
    state = a.get("State") or {}
    health = state.get("Health") if isinstance(state, dict) else None
    return {
        "Id": a.get("Id"),
        "Name": a.get("Name"),
        "Image": a.get("Image"),
        "Config": {"Labels": (a.get("Config") or {}).get("Labels") or {}},
        "State": {"Status": state.get("Status"), "ExitCode": state.get("ExitCode"),
                  **({"Health": {"Status": health.get("Status")}} if isinstance(health, dict) else {})},
        "HostConfig": {"PortBindings": (a.get("HostConfig") or {}).get("PortBindings")},
        "Mounts": [{"Destination": m.get("Destination"), "Source": m.get("Source")} for m in a.get("Mounts") or []
                   if isinstance(m, dict)],
    }


@dataclass(frozen=True)
class Seen:
    """A container as a plan sees it: the attributes of docker-py's ``Container`` that plans read
    (``name``, ``labels``, ``status``, ``attrs``), from :func:`_inspect`'s reduced view."""

    attrs: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.attrs.get("Name") or "").lstrip("/")

    @property
    def labels(self) -> dict[str, str]:
        return dict((self.attrs.get("Config") or {}).get("Labels") or {})

    @property
    def status(self) -> str:
        return str((self.attrs.get("State") or {}).get("Status") or "")


def images(label: str) -> list[dict[str, Any]] | None:
    """The engine's images labelled ``label``, reduced (``Id``, ``RepoTags``, ``RepoDigests``,
    ``Labels``, ``Created``); a probe. None when the engine is not on a unix socket."""
    return observe.probe("engine", ["images", label], lambda: _images(label))


def _images(label: str) -> list[dict[str, Any]] | None:
    query = urllib.parse.quote(json.dumps({"label": [label]}))
    listed = _get_json(f"/images/json?filters={query}")
    if listed is None:
        return None
    return [{"Id": i.get("Id"), "RepoTags": i.get("RepoTags"), "RepoDigests": i.get("RepoDigests"),
             "Labels": i.get("Labels"), "Created": i.get("Created")} for i in listed]


def _get_json(path: str, timeout: float = 10.0, *, missing_ok: bool = False) -> Any:
    """GET an engine API path over a unix socket with the standard library, decoded JSON.

    For cheap reads on the planning path, where importing docker-py would cost more than the
    call. Returns None when the engine is not on a unix socket (callers then use :func:`client`),
    or, with ``missing_ok``, when it answers 404; raises UnavailableError when it does not answer.
    """
    host = docker_host()
    if not host.startswith("unix://"):
        return None
    chunks = []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(host[len("unix://") :])
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
            while data := s.recv(65536):
                chunks.append(data)
    except OSError as e:
        raise _unavailable(str(e)) from None
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if missing_ok and status.split(b" ")[1:2] == [b"404"]:
        return None
    if status.split(b" ")[1:2] != [b"200"]:
        raise _unavailable(f"GET {path} answered {status.decode(errors='replace')}")
    return json.loads(body)


def _available_via_docker_py(timeout: float) -> bool:
    import docker
    from docker.errors import DockerException

    try:
        c = docker.DockerClient(base_url=docker_host(), timeout=max(1, int(timeout)))
        try:
            c.ping()
        finally:
            c.close()
    except (DockerException, OSError):
        return False
    return True
