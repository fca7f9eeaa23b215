"""The front of a deployment on Docker: the container that keeps the environment's port.

``mlopsctl-<project>-<model>-<env>`` publishes ``127.0.0.1:<port>`` and relays every connection
to the live server named in ``<home>/<model>-<env>/upstream``. A switch starts the
new server beside the old one, waits for its /health, then replaces that one-line file
atomically: the port never closes, so no request is refused. Every step leaves the engine and
the file in a state the next apply reads back (``serving/switch.py``), so kill -9 anywhere is safe.

The file belongs to the engine's containers, not to a checkout: ``<home>`` is the project's folder
in the user's state folder (:func:`home`), beside the engine on this machine. Every checkout of the
project here (a teammate's second clone, a self-hosted runner's fresh clone per job) reads the same
live server, so it plans no change where the deployment already serves what it wants; and a checkout
removed or cleaned (``git clean -x``) never takes the front's routing with it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from mlopsctl.serving import containers as ct

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

MOUNT = "/var/lib/mlopsctl/front"
SCRIPT = Path(__file__).with_name("front_server.py")


def home(project: str) -> Path:
    """The project's serving folder on this machine: ``$XDG_STATE_HOME/mlopsctl/serving/<project>``
    (``~/.local/state/...`` when unset). Project names are lowercase letters, digits and '-' (the
    schema), so the name is a plain folder name."""
    base = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):  # unset, or relative: the XDG spec says to ignore it
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "mlopsctl" / "serving" / project


def folder(project: str, model: str, env: str) -> Path:
    return home(project) / f"{model}-{env}"


def read_upstream(project: str, model: str, env: str) -> str | None:
    """The live server's container name (the file holds ``name:8080``), or None."""
    try:
        text = (folder(project, model, env) / "upstream").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text.rpartition(":")[0] or None


def write_upstream(project: str, model: str, env: str, server: str) -> None:
    """Point the front at ``server``: write aside, fsync, rename (the front reads it per connection)."""
    d = folder(project, model, env)
    tmp = d / "upstream.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{server}:8080\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, d / "upstream")
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def prepare(project: str, model: str, env: str) -> Path:
    """The folder the front mounts, with the relay script (readable by the unprivileged user)."""
    d = folder(project, model, env)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o755)
    target = d / "front.py"
    if not target.exists() or target.read_bytes() != SCRIPT.read_bytes():
        shutil.copyfile(SCRIPT, d / "front.py.tmp")
        os.chmod(d / "front.py.tmp", 0o644)
        os.replace(d / "front.py.tmp", target)
    return d


def remove(project: str, model: str, env: str) -> None:
    """Forget the deployment's folder, and the project's when no other deployment has one."""
    shutil.rmtree(folder(project, model, env), ignore_errors=True)
    try:
        home(project).rmdir()
    except OSError:
        pass  # another environment's folder is still there (or it never was)


def is_front(c: Container) -> bool:
    return (c.labels or {}).get(ct.LABEL_ROLE) == "front"


def usable(c: Container | None, port: int, project: str, model: str, env: str) -> bool:
    """A front that is running on ``port`` and mounts the folder that exists now."""
    if c is None or not is_front(c) or c.status != "running" or ct.wanted_port(c) != port:
        return False
    mounts = {m.get("Destination"): m.get("Source") for m in c.attrs.get("Mounts") or []}
    d = folder(project, model, env)
    return bool(mounts.get(MOUNT) == str(d.resolve()) and (d / "upstream").exists())


def start(client: DockerClient, name: str, image: str, labels: dict[str, str], port: int, network: str,
          project: str, model: str, env: str) -> Container:
    """(Re)create the front on ``port``; the upstream file must name a healthy server already."""
    d = prepare(project, model, env)
    return ct.run(
        client, image, name, {**labels, ct.LABEL_ROLE: "front"}, port,
        network=network,
        command=["python", f"{MOUNT}/front.py"],
        volumes={str(d.resolve()): {"bind": MOUNT, "mode": "ro"}},
    )
