"""What goes into a model version's image, and its content digest, shared by images and deployments.

A build context is the rendered serving files (``files/serving.py``), the version's pins
(``requirements-model.txt``), extra CA certificates, the user's ``src/`` package when the model
needs it (as of the version's commit), and the model layer (artifact + metadata). Its digest is
computed without touching the artifact's bytes (the version's recorded sha256 stands for them),
so planning stays cheap; the bytes are only materialised to build.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError
from mlopsctl.serving.usercode import user_code_for
from mlopsctl.specs.model_spec import ModelSpec

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.registry.api import ModelVersion

LABEL_PROJECT = "mlopsctl.project"
LABEL_MODEL = "mlopsctl.model"
LABEL_VERSION = "mlopsctl.version"
LABEL_DIGEST = "mlopsctl.context-digest"
LABEL_PARTS = "mlopsctl.context-parts"
LABEL_ENV = "mlopsctl.env"

# Pins beyond scikit-learn, taken from the lineage when the trainer recorded them.
_EXTRA_PINS = {"numpy": "numpy", "scipy": "scipy", "pandas": "pandas", "joblib": "joblib"}


@dataclass(frozen=True)
class BuildContext:
    model: str
    version: int
    digest: str
    """sha256 over every part: identical digest, identical image."""
    parts: dict[str, str]
    """Part name (Dockerfile, serve.py, ..., model) -> short digest; tells what changed."""
    files: dict[str, bytes] = field(repr=False)
    """Relative path -> content, everything but the artifact itself."""
    buildargs: dict[str, str]
    mv: ModelVersion = field(repr=False)


def repository(ctx: Context, model: str) -> str:
    """Image repository name: ``[<images.repository>/]mlopsctl/<project>-<model>``."""
    prefix = ctx.project.settings.images.repository
    name = f"mlopsctl/{ctx.project.name}-{model}".lower()
    return f"{prefix.rstrip('/')}/{name}" if prefix else name


def short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def requirement_pins(ctx: Context, mv: ModelVersion) -> str:
    """requirements-model.txt: the numeric stack pinned to what trained ``mv``."""
    lineage = mv.lineage or {}
    sklearn = lineage.get("sklearn")
    if not sklearn:
        from importlib.metadata import version

        sklearn = version("scikit-learn")
        ctx.note(f"{mv.tag}: lineage records no scikit-learn version; pinning this machine's {sklearn}")
    # Nothing version-specific beyond the pins: equal pins must give an equal file, so a new
    # model version reuses the cached dependency layer.
    lines = ["# pinned to the versions that trained the model", f"scikit-learn=={sklearn}"]
    raw = lineage.get("packages")
    packages: dict[str, Any] = raw if isinstance(raw, dict) else {}
    for key, dist in _EXTRA_PINS.items():
        pinned = packages.get(key) or lineage.get(key)
        if isinstance(pinned, str) and pinned:
            lines.append(f"{dist}=={pinned}")
    if not any(line.startswith("pandas") for line in lines):
        lines.append("pandas")  # the serving code builds a DataFrame; the model's Pipeline takes one
    return "\n".join(lines) + "\n"


def ca_certificates(ctx: Context) -> dict[str, bytes]:
    """``images.ca_certificates`` read from the host: ``ca-certificates/<n>-<name>.crt`` -> bytes."""
    spec = ctx.project.spec
    out: dict[str, bytes] = {}
    for i, raw in enumerate(ctx.project.settings.images.ca_certificates):
        path = Path(os.path.expanduser(raw))
        if not path.is_absolute():
            path = ctx.root / path
        try:
            data = path.read_bytes()
        except OSError as e:
            raise MlopsError(
                f"{spec.loc(f'images.ca_certificates.{i}')}: images.ca_certificates.{i}: cannot read the CA "
                f"certificate {path}: {e.strerror or e}; expected a PEM file on this machine"
            ) from None
        if b"-----BEGIN CERTIFICATE-----" not in data:
            raise MlopsError(
                f"{spec.loc(f'images.ca_certificates.{i}')}: images.ca_certificates.{i}: {path} is not a PEM "
                "certificate (no BEGIN CERTIFICATE line)"
            )
        out[f"ca-certificates/{i:02d}-{path.stem}.crt"] = data
    return out


def metadata(ctx: Context, mv: ModelVersion) -> dict[str, Any]:
    """model/metadata.json: what /metadata serves and what the server checks rows against."""
    lineage = dict(mv.lineage or {})
    doc = ctx.project.models.get(mv.model)
    spec = doc.model if doc else ModelSpec(mv.model)
    return {
        "project": ctx.project.name,
        "model": mv.model,
        "version": mv.version,
        "tag": mv.tag,
        "commit": mv.commit,
        "artifact": {"path": mv.artifact_path, "md5": mv.artifact_md5, "sha256": mv.artifact_sha256},
        "metrics": dict(mv.metrics),
        "lineage": lineage,
        # The contract the version was trained with (the spec's may have moved on since).
        "features": lineage.get("features") or (doc.data.get("features") if doc else None) or {},
        "task": lineage.get("task") or spec.task,
        "target": lineage.get("target") or spec.data.target,
        "classes": lineage.get("classes"),
    }


@dataclass
class _BuildContexts:
    """Build contexts computed in this run, by (model, version, artifact sha256)."""

    contexts: dict[tuple[str, int, str], BuildContext] = field(default_factory=dict)


def build_context(ctx: Context, model: str, mv: ModelVersion) -> BuildContext:
    """The build context of version ``mv`` (memoised per run; cheap: no artifact read)."""
    memo = ctx.memo(_BuildContexts).contexts
    key = (model, mv.version, mv.artifact_sha256)
    if key in memo:
        return memo[key]
    from mlopsctl.serving.files import base_image, render_files

    rendered = render_files(ctx.project, model)
    files: dict[str, bytes] = {name: text.encode() for name, text in rendered.items()}
    files["requirements-model.txt"] = requirement_pins(ctx, mv).encode()
    certs = ca_certificates(ctx)
    files.update(certs)
    code = user_code_for(ctx, mv)
    files.update(code)
    meta = json.dumps(metadata(ctx, mv), indent=2, sort_keys=True, default=str).encode() + b"\n"
    files["model/metadata.json"] = meta

    base = base_image(ctx.project)
    buildargs: dict[str, str] = {}
    if base["python_default"] is not None:
        trained = str((mv.lineage or {}).get("python") or base["python_default"])
        buildargs["PYTHON_VERSION"] = ".".join(trained.split(".")[:2])

    parts = {name: _sha(files[name]) for name in ("Dockerfile", "serve.py", "requirements.txt", "requirements-model.txt")}
    parts["ca-certificates"] = _sha(b"".join(n.encode() + b"\0" + d for n, d in sorted(certs.items())))
    if code:
        # Only models that carry user code get this part, so other models' digests (and so
        # their images) stay what they were.
        parts["src"] = _sha(b"".join(n.encode() + b"\0" + d + b"\0" for n, d in code.items()))
    parts["base"] = _sha(json.dumps({"base": base["base"], "buildargs": buildargs}, sort_keys=True).encode())
    parts["model"] = _sha(meta + mv.artifact_sha256.encode())
    digest = _sha(json.dumps(parts, sort_keys=True).encode())
    bc = BuildContext(
        model=model,
        version=mv.version,
        digest=digest,
        parts={k: v[:12] for k, v in parts.items()},
        files=files,
        buildargs=buildargs,
        mv=mv,
    )
    memo[key] = bc
    return bc


def write_context(ctx: Context, bc: BuildContext, dest: Path) -> None:
    """Materialise the context in ``dest``: files, the verified artifact, an empty cert dir if none."""
    from mlopsctl.registry import api

    (dest / "ca-certificates").mkdir(parents=True, exist_ok=True)
    (dest / "model").mkdir(parents=True, exist_ok=True)
    for rel, data in bc.files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.chmod(target, 0o644)
    # Git does not keep empty dirs and Docker's COPY of an empty dir is fine, but a marker keeps
    # the layer's content stable whatever the host's umask.
    (dest / "ca-certificates" / ".keep").write_bytes(b"")
    # The Dockerfile always copies src/; a model without user code gets an empty one.
    (dest / "src").mkdir(exist_ok=True)
    if not any(rel.startswith("src/") for rel in bc.files):
        (dest / "src" / ".keep").write_bytes(b"")
    for folder in [dest / "src", *(p for p in (dest / "src").rglob("*") if p.is_dir())]:
        os.chmod(folder, 0o755)  # readable by the image's unprivileged user whatever the umask
    api.materialize(ctx.root, bc.mv, dest / "model" / "model.joblib")
    os.chmod(dest / "model" / "model.joblib", 0o644)


def label_args(bc: BuildContext) -> dict[str, str]:
    """Build arguments the Dockerfile's single LABEL step turns into the image's labels."""
    return {
        **bc.buildargs,
        "MLOPSCTL_VERSION": str(bc.version),
        "MLOPSCTL_CONTEXT_DIGEST": bc.digest,
        "MLOPSCTL_CONTEXT_PARTS": format_parts(bc.parts),
        "MLOPSCTL_REVISION": bc.mv.commit,
    }


def format_parts(parts: dict[str, str]) -> str:
    # No quotes or spaces: the value passes through a Dockerfile LABEL.
    return ",".join(f"{k}={v}" for k, v in sorted(parts.items()))


def parse_parts(text: str) -> dict[str, str]:
    out = {}
    for item in (text or "").split(","):
        k, sep, v = item.partition("=")
        if sep:
            out[k] = v
    return out


def changed_parts(old: dict[str, str], new: dict[str, str]) -> list[str]:
    return [name for name in new if name != "model" and old.get(name) != new[name]]


# --------------------------------------------------------------------------- shared by image and deployment


def pending(ctx: Context, *addresses: str) -> list[str]:
    """Those of ``addresses`` that change in this plan (or changed earlier in this apply)."""
    from mlopsctl.core.model import Action

    out = []
    for address in addresses:
        change = ctx.upstream.get(address)
        if change is not None and change.action is not Action.NOOP:
            out.append(address)
    return out

def serve_refs(ctx: Context, model: str) -> dict[str, Any]:
    """Environment -> version reference (an int or "latest") from the model spec's ``serve``."""
    doc = ctx.project.models.get(model)
    return {env: entry.version for env, entry in doc.model.serve.items()} if doc else {}


def target_version(ctx: Context, model: str, env: str, ref: Any) -> tuple[ModelVersion | None, str | None]:
    """The version ``env`` is to serve, and why it may change before apply gets to it.

    The second value is a reason ("known after apply") when an upstream change in this plan
    (a new candidate version, a new assignment) may move the target.
    """
    from mlopsctl.registry.api import resolve_for

    mv = resolve_for(ctx, model, ref)
    moving = pending(ctx, f"model.{model}") if str(ref).lower() == "latest" else []
    moving += pending(ctx, f"registry.{model}.{env}") if mv is None else []
    note = None
    if moving:
        note = f"{env} serves version {ref}: known after apply ({', '.join(moving)} changes)"
    return mv, note
