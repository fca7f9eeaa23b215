"""Who holds a port on 127.0.0.1, and which ports are free: deployments never collide by surprise.

A deployment publishes on ``127.0.0.1:<port>``. Before starting one, apply asks who has that port
already: a container of this project (ours to replace), a container of another project or a
process on the machine (a clear error naming it). The Linux ``/proc`` tables name the process;
elsewhere the answer is "another process".
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


def bindable(port: int, host: str = HOST) -> bool:
    """Whether a listening socket could bind ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int, start: int, avoid: Iterable[int] = ()) -> list[int]:
    """``count`` ports from ``start`` upwards that nothing listens on (and not in ``avoid``)."""
    skip = set(avoid)
    out: list[int] = []
    port = start
    while len(out) < count and port <= 65535:
        if port not in skip and bindable(port):
            out.append(port)
        port += 1
    return out


def container_on(listed: list[dict[str, Any]], port: int) -> dict[str, Any] | None:
    """The container (engine API ``/containers/json`` entry) that publishes ``port``, if any."""
    for c in listed:
        for p in c.get("Ports") or []:
            if p.get("PublicPort") == port and p.get("IP") in (HOST, "0.0.0.0", "::", "", None):
                return c
    return None


def _listen_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def process_on(port: int) -> str | None:
    """"pid 1234 (nginx)" for the process listening on ``port``, when this machine can tell."""
    inodes = _listen_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{i}]" for i in inodes}
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in wanted for fd in fds):
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
                return f"pid {pid} ({comm})"
        except OSError:
            continue
    return None


def describe_holder(port: int, listed: list[dict[str, Any]], project_label: str) -> str | None:
    """Who else holds ``127.0.0.1:port`` (None when it is free or held by this project).

    ``listed`` is the engine's container list (may be empty without an engine); containers
    labelled ``project_label`` (``mlopsctl.project=<name>``) belong to this project.
    """
    c = container_on(listed, port)
    if c is not None:
        labels = c.get("Labels") or {}
        key, _, value = project_label.partition("=")
        if labels.get(key) == value:
            return None
        name = ((c.get("Names") or ["?"])[0]).lstrip("/")
        other = labels.get(key)
        return f"container {name}" + (f" of mlopsctl project {other!r}" if other else "")
    if bindable(port):
        return None
    who = process_on(port)
    return f"another process ({who})" if who else "another process"
