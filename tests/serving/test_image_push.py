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
        serving: Any, image_registry: ImageRegistry, docker_client: Any) -> None:
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


def test_an_unreachable_registry_is_said_so(serving: Any) -> None:
    [port, dead] = free_ports(2)
    ctx = _ctx(serving, f"127.0.0.1:{dead}/x", port)
    [change] = serving.plan(ctx, "image")
    assert any(r.startswith(f"v1 (reg): cannot tell whether it is pushed: the registry 127.0.0.1:{dead} is not "
                            "reachable") for r in change.reasons), change.reasons
