"""What serves now, per model and environment, read from the engine: the "serving" beside "assigned".

The registry's assignment says which version an environment should serve; this says which
version its live server runs and whether it is healthy (Argo CD's sync and health, apart).
Cheap: one engine call over the socket with the standard library, no docker-py, no specs needed.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

from mlopsctl.errors import UnavailableError
from mlopsctl.serving import engine, front

ENGINE_DOWN = "unknown (no Docker engine)"


def _health(c: dict[str, Any]) -> str:
    status = str(c.get("Status") or "")  # "Up 3 minutes (healthy)"
    if c.get("State") != "running":
        return str(c.get("State") or "not running")
    for word in ("unhealthy", "healthy", "health: starting"):
        if f"({word})" in status:
            return word.replace("health: ", "")
    return "running"


def serving(root: Path, project: str | None = None) -> dict[tuple[str, str], dict[str, Any]] | None:
    """(model, env) -> {"version", "health", "container", "port"}; None when no engine answers.

    Only servers of ``project`` when given. Where a switch left two servers, the one the front's
    upstream file names is the live one.
    """
    if not engine.available():
        return None
    labels = ["mlopsctl.role"] + ([f"mlopsctl.project={project}"] if project else [])
    query = urllib.parse.quote(json.dumps({"label": labels}))
    try:
        listed = engine.get_json(f"/containers/json?all=1&filters={query}")
    except UnavailableError:
        return None
    if listed is None:
        return _via_docker_py(labels)
    fronts: dict[tuple[str, str], dict[str, Any]] = {}
    servers: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in listed:
        lab = c.get("Labels") or {}
        key = (str(lab.get("mlopsctl.model", "")), str(lab.get("mlopsctl.env", "")))
        if lab.get("mlopsctl.role") == "front":
            fronts[key] = c
        else:
            servers.setdefault(key, []).append(c)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for key, cands in sorted(servers.items()):
        owner = str((cands[0].get("Labels") or {}).get("mlopsctl.project") or project or "")
        live_name = front.read_upstream(owner, *key) if owner else None
        live = next((c for c in cands if "/" + str(live_name) in (c.get("Names") or [])), cands[0])
        f = fronts.get(key)
        port = next((p.get("PublicPort") for p in (f or {}).get("Ports") or [] if p.get("PublicPort")), None)
        health = _health(live)
        if f is None or f.get("State") != "running":
            health = "not reachable (front " + ("missing" if f is None else str(f.get("State"))) + ")"
        raw = str((live.get("Labels") or {}).get("mlopsctl.version", ""))
        out[key] = {"version": int(raw) if raw.isdigit() else None, "health": health,
                    "container": (live.get("Names") or ["?"])[0].lstrip("/"), "port": port}
    return out


def _via_docker_py(labels: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for c in engine.client().containers.list(all=True, filters={"label": labels}):
        lab = c.labels or {}
        if lab.get("mlopsctl.role") != "server":
            continue
        raw = str(lab.get("mlopsctl.version", ""))
        health = ((c.attrs.get("State") or {}).get("Health") or {}).get("Status") or c.status
        out[(lab.get("mlopsctl.model", ""), lab.get("mlopsctl.env", ""))] = {
            "version": int(raw) if raw.isdigit() else None, "health": health, "container": c.name, "port": None}
    return out


def describe(assigned: int | None, now: dict[str, Any] | None, engine_known: bool) -> str:
    """"assigned v3, serving v2 (healthy)" for one environment."""
    text = f"assigned v{assigned}" if assigned is not None else "not assigned"
    if not engine_known:
        return f"{text}, serving {ENGINE_DOWN}"
    if now is None:
        return f"{text}, serving nothing"
    where = f" on 127.0.0.1:{now['port']}" if now.get("port") else ""
    return f"{text}, serving v{now['version']} ({now['health']}){where}"
