"""Kubernetes the GitOps way: the manifests of one model in one environment, as files to commit.

mlopsctl never talks to a cluster. For an environment with ``target: kubernetes`` it renders
``<path>/<env>/<model>/`` (a Deployment with readiness and liveness probes on /health and a
Service, or a KServe InferenceService; an Ingress when a host is named; a kustomization.yaml
listing them) with the image by registry digest. Argo CD or Flux syncs the folder; the plan
shows the manifests' diff, and apply writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEADER = ("# Managed by mlopsctl (rendered from mlops.yaml and models/{model}.yaml); edit the specs, not this file.\n"
          "# Synced to the cluster by Argo CD or Flux, never by mlopsctl.\n")
DEFAULT_PATH = "deploy/kubernetes"
DEFAULT_VERSION = "1.30"


@dataclass(frozen=True)
class Settings:
    namespace: str = "default"
    replicas: int = 1
    resources: dict[str, Any] | None = None
    ingress_host: str | None = None
    kserve: bool = False
    version: str = DEFAULT_VERSION
    path: str = DEFAULT_PATH

    @classmethod
    def of(cls, env_conf: dict[str, Any]) -> Settings:
        k = dict(env_conf.get("kubernetes") or {})
        return cls(
            namespace=str(k.get("namespace") or "default"), replicas=int(k.get("replicas") or 1),
            resources=k.get("resources") or None, ingress_host=k.get("ingress_host") or None,
            kserve=bool(k.get("kserve")), version=str(k.get("version") or DEFAULT_VERSION),
            path=str(k.get("path") or DEFAULT_PATH),
        )


def is_kubernetes(env_conf: dict[str, Any]) -> bool:
    return env_conf.get("target") == "kubernetes"


def folder(settings: Settings, model: str, env: str) -> str:
    return f"{settings.path.rstrip('/')}/{env}/{model}"


def _name(project: str, model: str) -> str:
    return f"{project}-{model}"[:63].rstrip("-")


def _resources(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("requests", "limits"):
        values = {k: str(v) for k, v in ((settings.resources or {}).get(part) or {}).items()}
        if values:
            out[part] = values
    return out


def _container(image: str, settings: Settings, probes: bool) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": "server",
        "image": image,
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False},
    }
    if probes:
        probe = {"httpGet": {"path": "/health", "port": "http"}}
        c["readinessProbe"] = {**probe, "periodSeconds": 5, "failureThreshold": 3}
        c["livenessProbe"] = {**probe, "initialDelaySeconds": 30, "periodSeconds": 10, "failureThreshold": 3}
    resources = _resources(settings)
    if resources:
        c["resources"] = resources
    return c


def objects(project: str, model: str, env: str, version: int, image: str, settings: Settings) -> dict[str, dict[str, Any]]:
    """File name -> the Kubernetes object it holds."""
    name = _name(project, model)
    labels = {"app.kubernetes.io/name": model, "app.kubernetes.io/instance": name,
              "app.kubernetes.io/version": f"v{version}", "app.kubernetes.io/managed-by": "mlopsctl",
              "mlopsctl.io/project": project, "mlopsctl.io/model": model, "mlopsctl.io/environment": env}
    selector = {"app.kubernetes.io/instance": name}
    meta = {"name": name, "namespace": settings.namespace, "labels": labels}
    out: dict[str, dict[str, Any]] = {}
    if settings.kserve:
        out["inferenceservice.yaml"] = {
            "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": meta,
            "spec": {"predictor": {"containers": [_container(image, settings, probes=True)]}},
        }
    else:
        out["deployment.yaml"] = {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {
                "replicas": settings.replicas,
                "selector": {"matchLabels": selector},
                # A new version rolls out beside the old one and takes traffic once ready: no downtime.
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {"metadata": {"labels": labels},
                             "spec": {"containers": [_container(image, settings, probes=True)]}},
            },
        }
        out["service.yaml"] = {
            "apiVersion": "v1", "kind": "Service", "metadata": meta,
            "spec": {"selector": selector, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
        }
        if settings.ingress_host:
            out["ingress.yaml"] = {
                "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta,
                "spec": {"rules": [{"host": settings.ingress_host, "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": name, "port": {"name": "http"}}}}]}}]},
            }
    return out


def render(project: str, model: str, env: str, version: int, image: str, settings: Settings) -> dict[str, str]:
    """File name -> text, kustomization.yaml included (what Argo CD or Flux applies)."""
    from mlopsctl.files.templating import toyaml

    objs = objects(project, model, env, version, image, settings)
    texts = {f: HEADER.format(model=model) + toyaml(o) + "\n" for f, o in objs.items()}
    kust = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": sorted(objs)}
    texts["kustomization.yaml"] = HEADER.format(model=model) + toyaml(kust) + "\n"
    return dict(sorted(texts.items()))


def read(root: Path, rel_folder: str) -> dict[str, str]:
    """The manifests on disk (only files mlopsctl writes: a header marks them)."""
    d = root / rel_folder
    out = {}
    if d.is_dir():
        for p in sorted(d.glob("*.yaml")):
            text = p.read_text(encoding="utf-8", errors="replace")
            if text.startswith("# Managed by mlopsctl"):
                out[p.name] = text
    return out


def write(root: Path, rel_folder: str, texts: dict[str, str]) -> None:
    """Write the manifests atomically and remove the ones no longer rendered (e.g. kserve switched on)."""
    from mlopsctl.workspace.fsafe import write_atomic

    d = root / rel_folder
    d.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        write_atomic(d / name, text, root=root)
    for name in read(root, rel_folder):
        if name not in texts:
            (d / name).unlink()


def remove(root: Path, rel_folder: str) -> None:
    d = root / rel_folder
    for name in read(root, rel_folder):
        (d / name).unlink()
    if d.is_dir() and not any(d.iterdir()):
        d.rmdir()


def diff(before: dict[str, str], after: dict[str, str], rel_folder: str) -> str:
    import difflib

    lines: list[str] = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name, ""), after.get(name, "")
        if a != b:
            lines += difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                          f"a/{rel_folder}/{name}", f"b/{rel_folder}/{name}")
    return "".join(lines)
