"""Images: one per model version that some environment serves, built with docker-py.

Address ``image.<model>``: one resource per served model covering every version its
environments serve, so a version registered during this very apply ("known after apply") is
built in the same run. The actual state is the engine's images labelled with project, model,
version and the build context's digest; a build happens only when no image carries the
wanted digest. Images are tagged ``mlopsctl/<project>-<model>:v<N>`` and ``:ctx-<digest>``
and kept when no longer served (rollback needs no rebuild); ``destroy --images`` removes them.

With ``images.repository`` naming a registry (``ghcr.io/team``, ``127.0.0.1:5000/team``), each
served version is also pushed (both tags) and deployments run it by its registry digest. The
registry is read back at plan time: an image missing there (a wiped registry) is a change.
"""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.core.model import Action, Address, Change, Resource
from mlopsctl.errors import MlopsError, UnavailableError
from mlopsctl.serving import buildctx as bctx
from mlopsctl.serving import engine, oci
from mlopsctl.serving.images import find_image, forget_images, list_images

if TYPE_CHECKING:
    from docker import DockerClient

    from mlopsctl.core.context import Context

def _wanted(ctx: Context, model: str, serve: dict[str, Any]) -> tuple[dict[int, tuple[list[str], bctx.BuildContext]], list[str]]:
    """Version -> (environments, build context), plus "known after apply" notes."""
    wanted: dict[int, tuple[list[str], bctx.BuildContext]] = {}
    notes: list[str] = []
    for env, ref in serve.items():
        mv, note = bctx.target_version(ctx, model, env, ref)
        if note:
            notes.append(note)
        if mv is None:
            continue
        if mv.version not in wanted:
            wanted[mv.version] = ([], bctx.build_context(ctx, model, mv))
        wanted[mv.version][0].append(env)
    return dict(sorted(wanted.items())), notes


class ImageProvider:
    kind = "image"
    reads_alone = False

    def expand(self, ctx: Context) -> Iterable[Resource]:
        from mlopsctl.serving.files import TEMPLATES, served_models

        for model in served_models(ctx.project):
            doc = ctx.project.models[model]
            serve = bctx.serve_refs(ctx, model)
            deps = [f"model.{model}"]
            deps += [f"file.docker/{model}/{name}" for name in TEMPLATES]
            yield Resource(
                kind=self.kind,
                name=model,
                desired={"repository": bctx.repository(ctx, model), "serve": serve},
                depends_on=tuple(deps),
                source=doc.loc("serve"),
                model=model,
            )

    def existing(self, ctx: Context) -> Iterable[str]:
        # Images outlive the specs that made them (a rollback reuses one); only an explicit
        # `destroy --images` lists them for deletion.
        if not (ctx.destroy and ctx.destroy_images) or not engine.available():
            return []
        return sorted({f"{self.kind}.{img['model']}" for img in list_images(ctx) if img["model"]})

    def read(self, address: str, desired: Resource | None, ctx: Context) -> dict[str, Any] | None:
        model = Address.parse(address).model
        if not engine.available():
            return {"engine": "unreachable"}
        images = [
            {"version": i["version"], "digest": bctx.short(i["digest"]), "id": bctx.short(i["id"])}
            for i in list_images(ctx)
            if i["model"] == model
        ]
        return {"images": images} if images else None

    def diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        model = Address.parse(address).model
        unknown = actual is not None and actual.get("engine") == "unreachable"
        if desired is None:
            if actual and not unknown and ctx.destroy and ctx.destroy_images:
                n = len(actual["images"])
                return Change(address, Action.DELETE, before=actual, reasons=(f"remove {n} image(s) (destroy --images)",),
                              model=model, requires=engine.requirement(ctx))
            return Change(address, Action.NOOP, before=actual, model=model)
        wanted, notes = _wanted(ctx, model, desired.desired["serve"])
        reasons: list[str] = []
        after: dict[str, Any] = {}
        existing = [] if unknown else [i for i in list_images(ctx) if i["model"] == model]
        repo = desired.desired["repository"]
        host = oci.split(repo)[0]
        for version, (envs, bc) in wanted.items():
            tag = f"{repo}:v{version}"
            after[f"v{version}"] = {"tag": tag, "context": bctx.short(bc.digest), "environments": envs}
            if host is not None:
                after[f"v{version}"]["pushed"] = _pushed(repo, bc, after[f"v{version}"], reasons, envs, host)
            if unknown:
                reasons.append(f"v{version} ({', '.join(envs)}): cannot tell whether it is built: no Docker engine")
                continue
            if any(i["digest"] == bc.digest for i in existing):
                continue
            same = [i for i in existing if i["version"] == version]
            if same:
                parts = bctx.changed_parts(same[-1]["parts"], bc.parts) or ["model"]
                reasons.append(f"v{version} ({', '.join(envs)}): context changed: {', '.join(parts)}")
            else:
                reasons.append(f"new model version {version} ({', '.join(envs)})")
        reasons += notes
        if not reasons:
            return Change(address, Action.NOOP, before=actual, after={"images": after}, model=model)
        action = Action.CREATE if not existing else Action.UPDATE
        return Change(address, action, before=actual, after={"images": after}, reasons=tuple(reasons), model=model,
                      requires=engine.requirement(ctx))

    def apply(self, change: Change, ctx: Context) -> dict[str, Any] | None:
        client = engine.client()
        model = change.name
        desired = change.payload.get("desired") or {}
        forget_images(ctx)
        wanted, _ = _wanted(ctx, model, desired.get("serve") or bctx.serve_refs(ctx, model))
        built: dict[str, Any] = {}
        pushed: dict[str, Any] = {}
        repo = bctx.repository(ctx, model)
        for version, (_envs, bc) in wanted.items():
            if find_image(ctx, model, bc.digest) is None:
                built[f"v{version}"] = build(ctx, client, bc)
                forget_images(ctx)
            if oci.split(repo)[0] is not None and oci.manifest_digest(repo, _ctx_tag(bc)) is None:
                found = find_image(ctx, model, bc.digest)
                img = client.images.get(found["id"] if found else f"{repo}:{_ctx_tag(bc)}")
                img.tag(repo, _ctx_tag(bc))  # built under another repository name: same content
                img.tag(repo, f"v{version}")
                pushed[f"v{version}"] = oci.push(
                    client, repo, [_ctx_tag(bc), f"v{version}"], lambda m: ctx.note(f"image.{model}: {m}"),
                    lambda done, total, what=f"pushing v{version} to {repo}": ctx.progress(what, done, total, "bytes"))
                forget_images(ctx)
        return {"built": built, "pushed": pushed} if pushed else {"built": built}

    def delete(self, change: Change, ctx: Context) -> None:
        client = engine.client()
        from docker.errors import APIError, NotFound

        model = change.name
        forget_images(ctx)
        for img in list_images(ctx):
            if img["model"] != model:
                continue
            try:
                client.images.remove(img["id"], force=True)
            except NotFound:
                pass
            except APIError as e:
                raise MlopsError(f"cannot remove image {', '.join(img['tags']) or img['id']}: {e.explanation}") from None
            ctx.note(f"image.{model}: removed {', '.join(img['tags']) or bctx.short(img['id'])}")
        forget_images(ctx)


def _ctx_tag(bc: bctx.BuildContext) -> str:
    return f"ctx-{bctx.short(bc.digest)}"


def _pushed(repo: str, bc: bctx.BuildContext, after: dict[str, Any], reasons: list[str], envs: list[str],
            host: str) -> str | None:
    """The registry's digest of this version's image (None: not there, and a reason to push says so)."""
    version = f"v{bc.version} ({', '.join(envs)})"
    try:
        digest = oci.manifest_digest(repo, _ctx_tag(bc))
    except oci.RegistryUnreachable as e:
        reasons.append(f"{version}: cannot tell whether it is pushed: {e.message}")
        return None
    if digest is None:
        reasons.append(f"{version}: not in the registry {host}: push")
    return digest


def build(ctx: Context, client: DockerClient, bc: bctx.BuildContext, *, nocache: bool = False) -> dict[str, Any]:
    """Build one version's image, streaming the log; MlopsError with the failing step's log.

    ``nocache`` ignores the engine's layer cache (benchmarks measure a cold build with it).
    """
    from docker.errors import APIError, DockerException

    repo = bctx.repository(ctx, bc.model)
    ctx_tag = _ctx_tag(bc)
    prefix = f"image.{bc.model}"
    ctx.progress(f"building {repo}:v{bc.version} (context {bctx.short(bc.digest)})")
    ctx.output(f"building {repo}:v{bc.version} (context {bctx.short(bc.digest)})")
    step, step_log = "", deque[str](maxlen=60)
    image_id = None
    with tempfile.TemporaryDirectory(prefix="mlopsctl-build-") as tmp:
        bctx.write_context(ctx, bc, Path(tmp))
        try:
            stream = client.api.build(
                path=tmp, tag=f"{repo}:{ctx_tag}", buildargs=bctx.label_args(bc),
                rm=True, forcerm=True, decode=True, pull=False, nocache=nocache,
            )
            for chunk in stream:
                for line in str(chunk.get("stream", "")).splitlines():
                    if line.startswith("Step "):
                        step, step_log = line, deque[str](maxlen=60)
                        _step_progress(ctx, bc.version, line)
                    elif line.strip():
                        step_log.append(line)
                    if line.strip():
                        ctx.output(line)
                if "aux" in chunk and isinstance(chunk["aux"], dict) and chunk["aux"].get("ID"):
                    image_id = chunk["aux"]["ID"]
                if "error" in chunk:
                    raise _build_failed(bc, repo, step, list(step_log), str(chunk["error"]).strip())
        except APIError as e:
            raise _build_failed(bc, repo, step, list(step_log), str(e.explanation or e)) from None
        except DockerException as e:  # connection dropped mid-build
            raise UnavailableError(f"the Docker engine stopped answering during the build of {repo}: {e}") from None
    image = client.images.get(image_id or f"{repo}:{ctx_tag}")
    image.tag(repo, f"v{bc.version}")
    ctx.note(f"{prefix}: built {repo}:v{bc.version} ({bctx.short(image.id)})")
    return {"image": image.id, "tags": [f"{repo}:v{bc.version}", f"{repo}:{ctx_tag}"], "context": bc.digest}


def _step_progress(ctx: Context, version: int, line: str) -> None:
    """"Step 3/9 : RUN pip install ..." -> build step 3 of 9 (the classic builder's numbering)."""
    head, _, instruction = line.partition(" : ")
    n, _, m = head.removeprefix("Step ").partition("/")
    try:
        done, total = int(n), int(m)
    except ValueError:
        return
    short = " ".join(instruction.split())
    short = short if len(short) <= 60 else short[:59] + "…"
    ctx.progress(f"build v{version}: {short}", done, total, "steps")


def _build_failed(bc: bctx.BuildContext, repo: str, step: str, log: list[str], error: str) -> MlopsError:
    hint = ""
    if step.split(" : ", 1)[-1].startswith("FROM") or "pull access denied" in error or "registry-1" in error:
        hint = (
            "\nThe base image could not be used: set images.base in mlops.yaml to an image this engine has or "
            "can pull (scripts/engine-up.sh makes mlopsctl/base:bookworm for machines without registry access)."
        )
    elif "CERTIFICATE_VERIFY_FAILED" in error or any("CERTIFICATE_VERIFY_FAILED" in line for line in log):
        hint = "\nTLS interception? List the proxy's CA certificate files under images.ca_certificates in mlops.yaml."
    body = "\n".join(f"  | {line}" for line in log)
    return MlopsError(
        f"building {repo}:v{bc.version} failed at {step or 'the start'}:\n{body}\n  {error}{hint}\n"
        "No running deployment was touched."
    )
