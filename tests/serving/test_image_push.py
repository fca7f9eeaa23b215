"""images.repository: apply pushes each served image to a real registry, deployments run it by digest,
and a registry that lost its images is a change the next plan shows."""

from __future__ import annotations

from typing import Any

import pytest

from mlopsctl.core.model import Action
from mlopsctl.providers.deployment import container_name
from tests.serving.image_registry import ImageRegistry
from tests.serving.serving_repo import context, free_ports

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _ctx(serving: Any, reg: ImageRegistry | str, port: int) -> Any:
    images = dict(context(serving.root).project.spec.data.get("images") or {})
    images["repository"] = f"{reg.host}/team" if isinstance(reg, ImageRegistry) else reg
    return context(serving.root, serve={"reg": {"version": 1}},
                   project={"environments": {"reg": {"port": port}}, "images": images})


def test_images_are_pushed_recorded_by_digest_and_a_wiped_registry_converges(
        images: Any, serving: Any, image_registry: ImageRegistry, docker_client: Any) -> None:
    [port] = free_ports(1)
    repo = f"{image_registry.host}/team/mlopsctl/{serving.project}-iris"
    [change] = serving.plan(_ctx(serving, image_registry, port), "image")
    assert change.action is not Action.NOOP
    assert f"v1 (reg): not in the registry {image_registry.host}: push" in change.reasons
    serving.converge(_ctx(serving, image_registry, port), "image")
    assert image_registry.catalog() == [f"team/mlopsctl/{serving.project}-iris"]
    [again] = serving.plan(_ctx(serving, image_registry, port), "image")
    assert again.action is Action.NOOP, again.reasons
    digest = again.after["images"]["v1"]["pushed"]  # type: ignore[index]
    assert digest.startswith("sha256:")

    serving.converge(_ctx(serving, image_registry, port), "deployment")
    server = docker_client.containers.get(container_name(_ctx(serving, image_registry, port), "iris", "reg") + "-a")
    assert server.attrs["Config"]["Image"] == f"{repo}@{digest}"  # run by registry digest

    image_registry.wipe()
    [change] = serving.plan(_ctx(serving, image_registry, port), "image")
    assert change.reasons == (f"v1 (reg): not in the registry {image_registry.host}: push",)
    serving.converge(_ctx(serving, image_registry, port), "image")
    [again] = serving.plan(_ctx(serving, image_registry, port), "image")
    assert again.action is Action.NOOP and again.after["images"]["v1"]["pushed"] == digest  # type: ignore[index]
    [dep] = serving.plan(_ctx(serving, image_registry, port), "deployment")
    assert dep.action is Action.NOOP  # the same image: nothing to switch


def test_an_unreachable_registry_is_said_so(images: Any, serving: Any) -> None:
    [port, dead] = free_ports(2)
    ctx = _ctx(serving, f"127.0.0.1:{dead}/x", port)
    [change] = serving.plan(ctx, "image")
    assert any(r.startswith(f"v1 (reg): cannot tell whether it is pushed: the registry 127.0.0.1:{dead} is not "
                            "reachable") for r in change.reasons), change.reasons


def test_kubernetes_manifests_name_the_pushed_digest(images: Any, serving: Any, image_registry: ImageRegistry) -> None:
    """target: kubernetes renders manifests into the repository (nothing applied to a cluster)."""
    import subprocess
    import sys
    from pathlib import Path

    images = dict(context(serving.root).project.spec.data.get("images") or {})
    images["repository"] = f"{image_registry.host}/team"

    def ctx(version: int) -> Any:
        return context(serving.root, serve={"kube": {"version": version}}, project={"images": images, "environments": {
            "kube": {"target": "kubernetes", "kubernetes": {"namespace": "ml", "version": "1.30"}}}})

    [change] = serving.plan(ctx(1), "deployment")
    assert change.action is Action.CREATE and change.requires is None  # no engine needed to render
    serving.converge(ctx(1), "image")
    [change] = serving.converge(ctx(1), "deployment")
    assert change.reasons == ("render v1 into deploy/kubernetes/kube/iris/ for Argo CD or Flux to sync",)
    digest = serving.plan(ctx(1), "image")[0].after["images"]["v1"]["pushed"]
    folder = serving.root / "deploy/kubernetes/kube/iris"
    assert f"image: \"{image_registry.host}/team/mlopsctl/{serving.project}-iris@{digest}\"" in (
        folder / "deployment.yaml").read_text()
    files = [str(p) for p in folder.glob("*.yaml") if p.name != "kustomization.yaml"]
    tool = str(Path(sys.executable).parent / "kubernetes-validate")
    proc = subprocess.run([tool, "--strict", "-k", "1.30.0", *files], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert serving.plan(ctx(1), "deployment")[0].action is Action.NOOP
    serving.converge(ctx(2), "image")
    [change] = serving.plan(ctx(2), "deployment")
    assert change.action is Action.UPDATE and change.reasons == ("manifests in deploy/kubernetes/kube/iris/ change (v2)",)
    lines = str(change.diff).splitlines()
    assert any(line.startswith("-") and line.endswith("app.kubernetes.io/version: v1") for line in lines)
    assert any(line.startswith("+") and line.endswith("app.kubernetes.io/version: v2") for line in lines)
    assert any(line.startswith("+") and "image:" in line and "@sha256:" in line for line in lines)
