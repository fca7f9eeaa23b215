"""Deployments: one serving container per model and environment, on the local Docker engine.

Address ``deployment.<model>.<env>``. The container is named ``mlopsctl-<project>-<model>-<env>``,
labelled with project, model, environment, version and image context digest, and published on
127.0.0.1:<environment port>. Everything is read back from the engine, so a container stopped
or removed by hand is drift that plan shows and apply repairs.

Replacing never leaves the environment without a working server: the new version first starts
on a spare port and must answer /health; only then is the old container stopped and the new
one started on the environment's port. If the new version never gets healthy, the old one keeps
serving and apply fails with the new container's log.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mlopsctl.core.model import Action, Address, Change, Resource
from mlopsctl.errors import MlopsError
from mlopsctl.monitoring.serving import LABEL as CAPTURE_LABEL
from mlopsctl.monitoring.serving import capture_label
from mlopsctl.monitoring.serving import container_options as capture_options
from mlopsctl.monitoring.serving import describe as describe_capture
from mlopsctl.serving import buildctx as bctx
from mlopsctl.serving import engine
from mlopsctl.serving.images import find_image, forget_images

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

    from mlopsctl.core.context import Context

HOST = "127.0.0.1"
PORT_IN_CONTAINER = "8080/tcp"
_STOPPED_BY_SIGNAL = {0, 137, 143}  # `docker stop`: SIGTERM handled (0, 143) or SIGKILL (137)


def health_timeout() -> float:
    return float(os.environ.get("MLOPSCTL_HEALTH_TIMEOUT", "90"))


def container_name(ctx: Context, model: str, env: str) -> str:
    return f"mlopsctl-{ctx.project.name}-{model}-{env}"


def _get(client: DockerClient, name: str) -> Container | None:
    from docker.errors import NotFound

    try:
        return client.containers.get(name)
    except NotFound:
        return None


def _host_port(c: Container) -> tuple[str, int] | None:
    bindings = ((c.attrs.get("NetworkSettings") or {}).get("Ports") or {}).get(PORT_IN_CONTAINER) or []
    if not bindings:
        bindings = ((c.attrs.get("HostConfig") or {}).get("PortBindings") or {}).get(PORT_IN_CONTAINER) or []
    for b in bindings:
        if b.get("HostPort"):
            return b.get("HostIp") or HOST, int(b["HostPort"])
    return None


def _logs(c: Container, lines: int = 30) -> str:
    try:
        text = c.logs(tail=lines).decode(errors="replace").rstrip()
    except Exception:  # noqa: BLE001 - logs are a courtesy in an error message
        return "  (no log)"
    return "\n".join(f"  | {line}" for line in text.splitlines()) or "  (empty log)"


def wait_healthy(c: Container, timeout: float) -> str | None:
    """None once /health answers 200 on the published port; otherwise why not."""
    deadline = time.monotonic() + timeout
    while True:
        c.reload()
        state = c.attrs.get("State") or {}
        # The restart policy brings a crashed server back: a restart already means it crashed.
        if c.status in ("exited", "dead", "restarting") or int(c.attrs.get("RestartCount") or 0) > 0:
            return f"the container exited with code {state.get('ExitCode')}"
        hp = _host_port(c)
        if hp is not None and c.status == "running":
            try:
                with urllib.request.urlopen(f"http://{hp[0]}:{hp[1]}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return None
            except (urllib.error.URLError, OSError):
                pass
        if time.monotonic() > deadline:
            return f"/health did not answer 200 within {timeout:.0f}s"
        time.sleep(0.2)


class DeploymentProvider:
    kind = "deployment"

    def expand(self, ctx: Context) -> Iterable[Resource]:
        from mlopsctl.serving.files import served_models

        envs = ctx.project.environments
        for model in served_models(ctx.project):
            doc = ctx.project.models[model]
            for env, ref in bctx.serve_refs(ctx, model).items():
                if env not in envs:
                    raise MlopsError(
                        f"{doc.loc(f'serve.{env}')}: serve.{env}: no environment {env!r} in mlops.yaml "
                        f"(environments: {', '.join(envs) or 'none'})"
                    )
                yield Resource(
                    kind=self.kind,
                    name=f"{model}.{env}",
                    desired={"model": model, "env": env, "version": ref, "port": ctx.project.settings.environments[env].port},
                    depends_on=(f"image.{model}", f"registry.{model}.{env}"),
                    source=doc.loc(f"serve.{env}"),
                    model=model,
                )

    def existing(self, ctx: Context) -> Iterable[str]:
        if not engine.available():
            return []
        import json
        import urllib.parse

        label = f"{bctx.LABEL_PROJECT}={ctx.project.name}"
        query = urllib.parse.quote(json.dumps({"label": [label]}))
        # Raw API over the socket: a plan of files alone must not import docker-py.
        listed = engine.get_json(f"/containers/json?all=1&filters={query}")
        if listed is None:
            listed = [
                {"Names": ["/" + c.name], "Labels": c.labels}
                for c in engine.client().containers.list(all=True, filters={"label": label})
            ]
        found = set()
        for c in listed:
            labels = c.get("Labels") or {}
            model, env = labels.get(bctx.LABEL_MODEL, ""), labels.get(bctx.LABEL_ENV, "")
            if "/" + container_name(ctx, model, env) in (c.get("Names") or []):
                found.add(f"{self.kind}.{model}.{env}")
        return sorted(found)

    def read(self, address: str, desired: Resource | None, ctx: Context) -> dict[str, Any] | None:
        addr = Address.parse(address)
        model, env = addr.model, addr.part
        if not engine.available():
            return {"engine": "unreachable"}
        c = _get(engine.client(), container_name(ctx, model, env))
        if c is None:
            return None
        labels = c.labels or {}
        state = c.attrs.get("State") or {}
        hp = _host_port(c)
        actual: dict[str, Any] = {
            "container": c.name,
            "status": c.status,
            "version": int(labels.get(bctx.LABEL_VERSION, "0") or 0),
            "context": bctx.short(labels.get(bctx.LABEL_DIGEST, "")),
            "port": hp[1] if hp else None,
            "capture": labels.get(CAPTURE_LABEL),
        }
        if c.status != "running":
            actual["exit_code"] = state.get("ExitCode")
        # Only a verdict worth acting on: "starting" -> "healthy" must not make a saved plan stale.
        if c.status == "running" and (state.get("Health") or {}).get("Status") == "unhealthy":
            actual["health"] = "unhealthy"
        return actual

    def diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        model = Address.parse(address).model
        unknown = actual is not None and actual.get("engine") == "unreachable"
        if desired is None:
            if actual is None or unknown:
                return Change(address, Action.NOOP, before=actual, model=model)
            why = "destroy" if ctx.destroy else "environment no longer served by the specs"
            return Change(address, Action.DELETE, before=actual, reasons=(f"remove the container ({why})",),
                          model=model, requires=engine.requirement(ctx))
        d = desired.desired
        mv, note = bctx.target_version(ctx, model, d["env"], d["version"])
        if mv is None:
            reasons = [note] if note else [f"{d['env']} serves version {d['version']}, which is not registered"]
            action = Action.NOOP if note is None else (Action.CREATE if actual is None else Action.UPDATE)
            return Change(address, action, before=actual, reasons=tuple(reasons), model=model,
                          requires=engine.requirement(ctx) if action is not Action.NOOP else None)
        bc = bctx.build_context(ctx, model, mv)
        capture = capture_label(ctx.project.models.get(model))
        after = {"version": mv.version, "context": bctx.short(bc.digest), "port": d["port"], "status": "running",
                 "capture": capture}
        where = f"{HOST}:{d['port']}"
        reasons = []
        if unknown:
            action, reasons = Action.CREATE, [f"serve v{mv.version} on {where}; container state unknown: no Docker engine"]
        elif actual is None:
            action, reasons = Action.CREATE, [f"container missing: start v{mv.version} on {where}"]
        else:
            replace = []
            if actual["version"] != mv.version:
                replace.append(f"version {actual['version']} -> {mv.version}")
            elif actual["context"] != bctx.short(bc.digest):
                replace.append(f"image rebuilt (context {actual['context']} -> {bctx.short(bc.digest)})")
            if actual["port"] != d["port"]:
                replace.append(f"port {actual['port']} -> {d['port']}")
            if (actual.get("capture") or "off") != capture:  # no label: started before capture existed
                replace.append(f"request capture {describe_capture(actual.get('capture'))} -> "
                               f"{describe_capture(capture)}")
            if actual.get("health") == "unhealthy":
                replace.append("container unhealthy")
            if replace:
                action, reasons = Action.REPLACE, replace
            elif actual["status"] != "running":
                code = actual.get("exit_code")
                how = "stopped by hand" if code in _STOPPED_BY_SIGNAL else f"exited with code {code}"
                action, reasons = Action.UPDATE, [f"container {how} (status {actual['status']}): start it again"]
            else:
                action = Action.NOOP
        if note:
            reasons.append(note)
            if action is Action.NOOP:
                action = Action.UPDATE
        return Change(address, action, before=actual, after=after, reasons=tuple(reasons), model=model,
                      requires=engine.requirement(ctx) if action is not Action.NOOP else None)

    def apply(self, change: Change, ctx: Context) -> dict[str, Any] | None:
        client = engine.client()
        d = change.payload.get("desired") or {}
        model, env, port = d["model"], d["env"], int(d["port"])
        mv, _ = bctx.target_version(ctx, model, env, d["version"])
        if mv is None:
            raise MlopsError(f"{change.address}: {env} serves version {d['version']}, which is not registered")
        bc = bctx.build_context(ctx, model, mv)
        forget_images(ctx)
        image = find_image(ctx, model, bc.digest)
        if image is None:
            raise MlopsError(
                f"{change.address}: no image of {model} v{mv.version} with context {bctx.short(bc.digest)}; "
                f"apply image.{model} first (`mlopsctl apply --target image.{model}`)"
            )
        name = container_name(ctx, model, env)
        doc = ctx.project.models.get(model)
        capture = capture_label(doc)
        current = self._recover(client, name)
        if current is not None and current.labels.get(bctx.LABEL_DIGEST) == bc.digest and _host_port(current) == (
            HOST, port
        ) and (current.labels.get(CAPTURE_LABEL) or "off") == capture:
            if current.status != "running":  # stopped by hand: same version, same port -> start it again
                current.start()
            problem = wait_healthy(current, health_timeout())
            if problem:
                raise MlopsError(f"{change.address}: v{mv.version} is not healthy: {problem}\n{_logs(current)}")
            return {"container": current.short_id, "version": mv.version, "url": f"http://{HOST}:{port}"}
        labels = {
            bctx.LABEL_PROJECT: ctx.project.name,
            bctx.LABEL_MODEL: model,
            bctx.LABEL_ENV: env,
            bctx.LABEL_VERSION: str(mv.version),
            bctx.LABEL_DIGEST: bc.digest,
            CAPTURE_LABEL: capture,
        }
        if current is not None and current.status == "running":
            # Prove the new version on a spare port while the old one keeps serving.
            ctx.progress(f"proving v{mv.version} healthy on a spare port")
            trial = self._run(client, image["id"], f"{name}-next", labels, None)
            problem = wait_healthy(trial, health_timeout())
            log = _logs(trial)
            trial.remove(force=True)
            if problem:
                serving = _host_port(current)
                raise MlopsError(
                    f"{change.address}: v{mv.version} never became healthy ({problem}); "
                    f"v{current.labels.get(bctx.LABEL_VERSION)} keeps serving on "
                    f"{HOST}:{serving[1] if serving else '?'}.\nContainer log:\n{log}"
                )
        if current is not None:
            current.rename(f"{name}-prev")
            current.stop(timeout=10)
        ctx.progress(f"starting v{mv.version} on {HOST}:{port}, waiting for /health")
        new = self._run(client, image["id"], name, labels, port,
                        capture_options(ctx.root, model, env, doc))
        problem = wait_healthy(new, health_timeout())
        if problem:
            log = _logs(new)
            new.remove(force=True)
            restored = ""
            if current is not None:
                current.rename(name)
                current.start()
                restored = f"; v{current.labels.get(bctx.LABEL_VERSION)} restored"
            raise MlopsError(f"{change.address}: v{mv.version} never became healthy ({problem}){restored}.\n"
                             f"Container log:\n{log}")
        if current is not None:
            current.remove(force=True)
        ctx.note(f"{change.address}: v{mv.version} serving on http://{HOST}:{port}")
        return {"container": new.short_id, "version": mv.version, "url": f"http://{HOST}:{port}"}

    def delete(self, change: Change, ctx: Context) -> None:
        client = engine.client()
        model, env = change.addr.model, change.addr.part
        name = container_name(ctx, model, env)
        for suffix in ("", "-next", "-prev"):
            c = _get(client, name + suffix)
            if c is not None:
                c.remove(force=True)
                ctx.note(f"{change.address}: removed container {c.name}")

    @staticmethod
    def _recover(client: DockerClient, name: str) -> Container | None:
        """Clean up after an apply that died mid-swap; returns the container serving now, if any."""
        from docker.errors import NotFound

        for leftover in (f"{name}-next",):
            c = _get(client, leftover)
            if c is not None:
                c.remove(force=True)
        current, prev = _get(client, name), _get(client, f"{name}-prev")
        if prev is not None:
            if current is None:  # died between stopping the old and starting the new: put the old back
                prev.rename(name)
                if prev.status != "running":
                    try:
                        prev.start()
                    except NotFound:
                        return None
                return prev
            prev.remove(force=True)
        return current

    @staticmethod
    def _run(client: DockerClient, image: str, name: str, labels: dict[str, str], port: int | None,
             extra: dict[str, Any] | None = None) -> Container:
        """``extra``: request capture's mount and environment (the trial container records nothing)."""
        from docker.errors import APIError

        try:
            return client.containers.run(
                image,
                name=name,
                detach=True,
                labels=labels,
                ports={PORT_IN_CONTAINER: (HOST, port)},
                # Survives an engine restart, but a container stopped by hand stays stopped (drift).
                restart_policy={"Name": "unless-stopped"},
                **(extra or {}),
            )
        except APIError as e:
            raise MlopsError(f"cannot start container {name}: {e.explanation or e}") from None
