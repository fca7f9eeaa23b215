"""Serving containers on the Docker engine: find, start, wait until healthy, clean up.

Shared by the deployment provider's switch (``serving/switch.py``) and the front
(``serving/front.py``). A start that fails (a port taken, an image gone) never leaves a
container in state Created behind: the next apply would trip over it.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

HOST = "127.0.0.1"
PORT_IN_CONTAINER = "8080/tcp"
LABEL_ROLE = "mlopsctl.role"
"""``front`` (holds the environment's port) or ``server`` (one version's server)."""


def health_timeout() -> float:
    return float(os.environ.get("MLOPSCTL_HEALTH_TIMEOUT", "90"))


def get(client: DockerClient, name: str) -> Container | None:
    from docker.errors import NotFound

    try:
        return client.containers.get(name)
    except NotFound:
        return None


def remove(client: DockerClient, name: str) -> bool:
    """Remove the container ``name`` if it exists (whatever its state); whether there was one."""
    from docker.errors import APIError, NotFound

    c = get(client, name)
    if c is None:
        return False
    try:
        c.remove(force=True)
    except NotFound:
        pass
    except APIError as e:
        raise MlopsError(f"cannot remove container {name}: {e.explanation or e}") from None
    return True


def host_port(c: Container) -> tuple[str, int] | None:
    bindings = ((c.attrs.get("NetworkSettings") or {}).get("Ports") or {}).get(PORT_IN_CONTAINER) or []
    if not bindings:
        bindings = ((c.attrs.get("HostConfig") or {}).get("PortBindings") or {}).get(PORT_IN_CONTAINER) or []
    for b in bindings:
        if b.get("HostPort"):
            return b.get("HostIp") or HOST, int(b["HostPort"])
    return None


def wanted_port(c: Container) -> int | None:
    """The host port the container was created to publish (0: any), running or not."""
    bindings = ((c.attrs.get("HostConfig") or {}).get("PortBindings") or {}).get(PORT_IN_CONTAINER) or []
    for b in bindings:
        return int(b.get("HostPort") or 0)
    return None


def logs(c: Container, lines: int = 30) -> str:
    try:
        text = c.logs(tail=lines).decode(errors="replace").rstrip()
    except Exception:  # noqa: BLE001 - logs are a courtesy in an error message
        return "  (no log)"
    return "\n".join(f"  | {line}" for line in text.splitlines()) or "  (empty log)"


def probe(port: int, timeout: float = 2) -> bool:
    import urllib.error  # here: plans import this module, only apply and status ask a server
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_healthy(c: Container, timeout: float) -> str | None:
    """None once /health answers 200 on the published port; otherwise why not."""
    deadline = time.monotonic() + timeout
    while True:
        c.reload()
        state = c.attrs.get("State") or {}
        # The restart policy brings a crashed server back: a restart already means it crashed.
        if c.status in ("exited", "dead", "restarting") or int(c.attrs.get("RestartCount") or 0) > 0:
            return f"the container exited with code {state.get('ExitCode')}"
        hp = host_port(c)
        if hp is not None and c.status == "running" and probe(hp[1]):
            return None
        if time.monotonic() > deadline:
            return f"/health did not answer 200 within {timeout:.0f}s"
        time.sleep(0.2)


def ensure_network(client: DockerClient, name: str, labels: dict[str, str]) -> None:
    """A user-defined bridge network, where the front reaches the servers by container name."""
    from docker.errors import APIError

    if client.networks.list(names=[name]):
        return
    try:
        client.networks.create(name, driver="bridge", labels=labels)
    except APIError as e:  # created meanwhile by a concurrent apply of the same project
        if not client.networks.list(names=[name]):
            raise MlopsError(f"cannot create the network {name}: {e.explanation or e}") from None


def remove_network_if_unused(client: DockerClient, name: str) -> None:
    from docker.errors import APIError, NotFound

    for net in client.networks.list(names=[name]):
        try:
            net.reload()
            if not net.attrs.get("Containers"):
                net.remove()
        except (APIError, NotFound):
            pass  # in use by another deployment of the project, or gone already


def run(client: DockerClient, image: str, name: str, labels: dict[str, str], port: int | None,
        **extra: Any) -> Container:
    """Start a container published on ``HOST:port`` (None: a port the engine picks).

    Restart policy ``unless-stopped``: it survives an engine restart, but a container stopped by
    hand stays stopped (drift). On failure the half-made container is removed.
    """
    from docker.errors import APIError, ImageNotFound

    remove(client, name)
    try:
        return client.containers.run(
            image, name=name, detach=True, labels=labels, ports={PORT_IN_CONTAINER: (HOST, port)},
            restart_policy={"Name": "unless-stopped"}, **extra,
        )
    except (APIError, ImageNotFound) as e:
        remove(client, name)  # `run` = create + start: a failed start leaves it Created
        raise MlopsError(f"cannot start container {name}: {getattr(e, 'explanation', None) or e}") from None
