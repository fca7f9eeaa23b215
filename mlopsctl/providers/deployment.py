"""Deployments: one model version served per environment, on the local Docker engine.

Address ``deployment.<model>.<env>``. A front container ``mlopsctl-<project>-<model>-<env>``
holds ``127.0.0.1:<port>`` (``serve.<env>.port``, else the environment's) and relays to the live
server container beside it, labelled with project, model, environment, version and image context
digest (``serving/switch.py``). Everything is read back from the engine, so a container stopped
or removed by hand is drift that plan shows and apply repairs.

A new version starts beside the old one and must answer /health before the front moves to it;
the port never closes, so a switch refuses no request. If the new version never gets healthy, the
old one keeps serving and apply fails with the new container's log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlopsctl.core.model import Action, Address, Change, Resource
from mlopsctl.errors import MlopsError
from mlopsctl.monitoring.serving import LABEL as CAPTURE_LABEL
from mlopsctl.monitoring.serving import capture_label
from mlopsctl.monitoring.serving import container_options as capture_options
from mlopsctl.monitoring.serving import describe as describe_capture
from mlopsctl.serving import buildctx as bctx
from mlopsctl.serving import containers as ct
from mlopsctl.serving import engine, front, oci, ports, switch
from mlopsctl.serving import kubernetes as k8s
from mlopsctl.serving.images import find_image, forget_images

if TYPE_CHECKING:
    from docker.models.containers import Container

    from mlopsctl.core.context import Context

HOST = ct.HOST
_STOPPED_BY_SIGNAL = {0, 137, 143}  # `docker stop`: SIGTERM handled (0, 143) or SIGKILL (137)


def container_name(ctx: Context, model: str, env: str) -> str:
    """The front's name; the servers are this name with ``-a`` or ``-b``."""
    return switch.front_name(ctx.project.name, model, env)


def _version(c: Container | None) -> int:
    labels = (c.labels or {}) if c is not None else {}
    raw = str(labels.get(bctx.LABEL_VERSION, "0") or 0)
    return int(raw) if raw.isdigit() else 0


def read_serving(ctx: Context, model: str, env: str) -> dict[str, Any] | None:
    """What serves ``model`` in ``env`` now, read from the engine (None: nothing).

    On a unix socket through the engine's API with the standard library, as probes a reused
    plan asks again (:func:`mlopsctl.serving.engine.inspect`); else through docker-py."""
    if engine.on_socket():
        found = switch.find_with(engine.inspect, ctx.project.name, model, env)
    else:
        found = switch.find(engine.client(), ctx.project.name, model, env)
    live, fr = found.live, found.front
    if live is None and fr is not None and not front.is_front(fr):
        live, fr = fr, None  # a server started before deployments had fronts
    if live is None and fr is None:
        return None
    labels = (live.labels or {}) if live is not None else {}
    state = (live.attrs.get("State") or {}) if live is not None else {}
    actual: dict[str, Any] = {
        "container": live.name if live is not None else None,
        "status": live.status if live is not None else "missing",
        "version": _version(live),
        "context": bctx.short(labels.get(bctx.LABEL_DIGEST, "")),
        "port": ct.wanted_port(fr) if fr is not None else None,
        "capture": labels.get(CAPTURE_LABEL),
        "front": "ok" if fr is not None and front.usable(fr, ct.wanted_port(fr) or 0, ctx.project.name, model, env)
        else ("missing" if fr is None else fr.status),
    }
    if live is not None and live.status != "running":
        actual["exit_code"] = state.get("ExitCode")
    # Only a verdict worth acting on: "starting" -> "healthy" must not make a saved plan stale.
    if live is not None and live.status == "running" and (state.get("Health") or {}).get("Status") == "unhealthy":
        actual["health"] = "unhealthy"
    return actual


def _port_holder(ctx: Context, port: int) -> str | None:
    from mlopsctl.errors import UnavailableError

    try:
        listed = engine.containers({"status": ["running"]}) if engine.available() else []
    except UnavailableError:
        listed = []
    if listed is None:  # not a unix socket: ask docker-py
        listed = switch.running(engine.client())
    return ports.describe_holder(port, listed, f"{bctx.LABEL_PROJECT}={ctx.project.name}")


class DeploymentProvider:
    kind = "deployment"
    reads_alone = False

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
                if k8s.is_kubernetes(envs[env]):
                    settings = k8s.Settings.of(envs[env])
                    yield Resource(
                        kind=self.kind, name=f"{model}.{env}",
                        desired={"model": model, "env": env, "version": ref, "target": "kubernetes",
                                 "folder": k8s.folder(settings, model, env)},
                        depends_on=(f"image.{model}", f"model.{model}"), source=doc.loc(f"serve.{env}"), model=model,
                    )
                    continue
                port = ctx.project.deployment_port(model, env)
                if port is None:
                    raise MlopsError(f"{doc.loc(f'serve.{env}')}: serve.{env}: no port to serve on: set "
                                     f"environments.{env}.port in mlops.yaml or serve.{env}.port here")
                yield Resource(
                    kind=self.kind,
                    name=f"{model}.{env}",
                    desired={"model": model, "env": env, "version": ref, "port": port},
                    # The registry's assignment depends on this deployment, not the other way round:
                    # the tag moves only once the new version serves and is healthy.
                    depends_on=(f"image.{model}", f"model.{model}"),
                    source=doc.loc(f"serve.{env}"),
                    model=model,
                )

    def existing(self, ctx: Context) -> Iterable[str]:
        found = set(_k8s_existing(ctx))
        if not engine.available():
            return sorted(found)
        label = f"{bctx.LABEL_PROJECT}={ctx.project.name}"
        # Raw API over the socket: a plan of files alone must not import docker-py.
        listed = engine.containers({"label": [label]}, stopped=True)
        if listed is None:
            listed = [
                {"Names": ["/" + c.name], "Labels": c.labels}
                for c in engine.client().containers.list(all=True, filters={"label": label})
            ]
        for c in listed:
            labels = c.get("Labels") or {}
            model, env = labels.get(bctx.LABEL_MODEL, ""), labels.get(bctx.LABEL_ENV, "")
            name = container_name(ctx, model, env)
            names = {"/" + name + suffix for suffix in ("", "-a", "-b")}
            if names & set(c.get("Names") or []):
                found.add(f"{self.kind}.{model}.{env}")
        return sorted(found)

    def read(self, address: str, desired: Resource | None, ctx: Context) -> dict[str, Any] | None:
        addr = Address.parse(address)
        model, env = addr.model, addr.part
        rel = _k8s_folder(ctx, address, desired)
        if rel is not None:
            texts = k8s.read(ctx.root, rel)
            return {"target": "kubernetes", "folder": rel, "files": {n: _sha(t) for n, t in texts.items()}} \
                if texts else None
        if not engine.available():
            return {"engine": "unreachable"}
        return read_serving(ctx, model, env)

    def diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        model = Address.parse(address).model
        if (desired is not None and desired.desired.get("target") == "kubernetes") or (
                actual is not None and actual.get("target") == "kubernetes"):
            return _k8s_diff(ctx, address, desired, actual)
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
            if actual.get("front") == "missing" and actual.get("container") and actual.get("port") is None:
                replace.append("put a front on the port so that later switches refuse no request")
            if replace:
                action, reasons = Action.REPLACE, replace
            elif actual["status"] == "missing":
                action, reasons = Action.UPDATE, [f"no server behind the front: start v{mv.version}"]
            elif actual.get("front") != "ok":
                how = "stopped by hand" if actual.get("front") == "exited" else actual.get("front")
                action, reasons = Action.UPDATE, [f"the front container on {where} {how}: start it again"]
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
        blocked = None
        if action is not Action.NOOP and not unknown and (actual is None or actual.get("port") != d["port"]):
            holder = _port_holder(ctx, d["port"])
            if holder is not None:
                blocked = f"{where} is already in use by {holder}"
                reasons.append(blocked)
        return Change(address, action, before=actual, after=after, reasons=tuple(reasons), model=model,
                      blocked=blocked, requires=engine.requirement(ctx) if action is not Action.NOOP else None)

    def apply(self, change: Change, ctx: Context) -> dict[str, Any] | None:
        d = change.payload.get("desired") or {}
        if d.get("target") == "kubernetes":
            return _k8s_apply(ctx, change, d)
        client = engine.client()
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
        doc = ctx.project.models.get(model)
        capture = capture_label(doc)
        labels = {
            bctx.LABEL_PROJECT: ctx.project.name,
            bctx.LABEL_MODEL: model,
            bctx.LABEL_ENV: env,
            bctx.LABEL_VERSION: str(mv.version),
            bctx.LABEL_DIGEST: bc.digest,
            CAPTURE_LABEL: capture,
            ct.LABEL_ROLE: "server",
        }

        def same(c: Container) -> bool:
            return (c.labels or {}).get(bctx.LABEL_DIGEST) == bc.digest and (
                (c.labels or {}).get(CAPTURE_LABEL) or "off") == capture

        wanted = switch.Wanted(
            project=ctx.project.name, model=model, env=env, port=port,
            image=image.get("ref") or image["id"], labels=labels, same=same,
            describe=lambda c: f"v{_version(c)}", extra=capture_options(ctx.root, model, env, doc),
        )
        try:
            server = switch.converge(client, wanted, lambda m: ctx.log(f"{change.address}: {m}"))
        except MlopsError as e:
            raise MlopsError(f"{change.address}: {e.message}") from None
        ctx.note(f"{change.address}: v{mv.version} serving on http://{HOST}:{port}")
        return {"container": server.short_id, "version": mv.version, "url": f"http://{HOST}:{port}"}

    def delete(self, change: Change, ctx: Context) -> None:
        if (change.before or {}).get("target") == "kubernetes":
            k8s.remove(ctx.root, change.before["folder"])  # type: ignore[index]
            ctx.log(f"{change.address}: removed the manifests in {change.before['folder']}/")  # type: ignore[index]
            return

        client = engine.client()
        model, env = change.addr.model, change.addr.part
        name = container_name(ctx, model, env)
        # The front first: nothing is relayed to a server being removed.
        for suffix in ("", "-a", "-b", "-next", "-prev"):
            if ct.remove(client, name + suffix):
                ctx.note(f"{change.address}: removed container {name + suffix}")
        front.remove(ctx.project.name, model, env)
        ct.remove_network_if_unused(client, switch.network_name(ctx.project.name))


# --------------------------------------------------------------------------- target: kubernetes


@dataclass
class _Manifests:
    """The run's memo: address -> folder of the managed manifests found on disk."""

    folders: dict[str, str] = field(default_factory=dict)


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _k8s_existing(ctx: Context) -> Iterable[str]:
    """Model folders with managed manifests under each kubernetes environment's path."""
    found = ctx.memo(_Manifests).folders
    for env, conf in ctx.project.environments.items():
        if not k8s.is_kubernetes(conf):
            continue
        base = ctx.root / k8s.Settings.of(conf).path / env
        for d in sorted(base.glob("*/")) if base.is_dir() else []:
            rel = d.relative_to(ctx.root).as_posix()
            if k8s.read(ctx.root, rel):
                found[f"deployment.{d.name}.{env}"] = rel
    return sorted(found)


def _k8s_folder(ctx: Context, address: str, desired: Resource | None) -> str | None:
    if desired is not None:
        return desired.desired.get("folder") if desired.desired.get("target") == "kubernetes" else None
    return ctx.memo(_Manifests).folders.get(address)


def _k8s_render(ctx: Context, d: dict[str, Any]) -> tuple[dict[str, str] | None, str | None, Any]:
    """(manifests, why they cannot be rendered yet, the version) for a desired kubernetes deployment."""
    model, env = d["model"], d["env"]
    mv, note = bctx.target_version(ctx, model, env, d["version"])
    if mv is None:
        return None, note or f"{env} serves version {d['version']}, which is not registered", None
    repo = bctx.repository(ctx, model)
    tag = f"ctx-{bctx.short(bctx.build_context(ctx, model, mv).digest)}"
    try:
        digest = oci.manifest_digest(repo, tag)
    except oci.RegistryUnreachable as e:
        return None, f"v{mv.version}: the image digest is unknown: {e.message}", mv
    if digest is None:
        return None, f"v{mv.version}: the manifests name the image by digest once it is pushed (known after apply)", mv
    settings = k8s.Settings.of(ctx.project.environments[env])
    return k8s.render(ctx.project.name, model, env, mv.version, f"{repo}@{digest}", settings), note, mv


def _k8s_diff(ctx: Context, address: str, desired: Resource | None, actual: dict[str, Any] | None) -> Change:
    model = Address.parse(address).model
    if desired is None:
        why = "destroy" if ctx.destroy else "environment no longer served by the specs"
        text = f"remove the manifests in {(actual or {}).get('folder')}/ ({why}); Argo CD or Flux prunes the objects"
        return Change(address, Action.DELETE, before=actual, model=model, reasons=(text,))
    d = desired.desired
    texts, note, mv = _k8s_render(ctx, d)
    grow = Action.CREATE if actual is None else Action.UPDATE
    if texts is None:
        return Change(address, grow, before=actual, after={"folder": d["folder"]}, reasons=(str(note),), model=model)
    before = k8s.read(ctx.root, d["folder"])
    after = {"target": "kubernetes", "folder": d["folder"], "files": {n: _sha(t) for n, t in texts.items()}}
    if before == texts:
        return Change(address, Action.NOOP, before=actual, after=after, model=model)
    reasons = [f"render v{mv.version} into {d['folder']}/ for Argo CD or Flux to sync"
               if actual is None else f"manifests in {d['folder']}/ change (v{mv.version})"]
    if note:
        reasons.append(note)
    return Change(address, grow, before=actual, after=after, reasons=tuple(reasons), model=model,
                  diff=k8s.diff(before, texts, d["folder"]))


def _k8s_apply(ctx: Context, change: Change, d: dict[str, Any]) -> dict[str, Any]:
    texts, note, mv = _k8s_render(ctx, d)
    if texts is None:
        raise MlopsError(f"{change.address}: cannot render the manifests: {note}")
    k8s.write(ctx.root, d["folder"], texts)
    ctx.log(f"{change.address}: v{mv.version} manifests written to {d['folder']}/ (commit them; Argo CD or Flux "
            "syncs the cluster)")
    return {"version": mv.version, "folder": d["folder"], "files": sorted(texts)}
