"""Images and deployments against a real Docker engine: build, serve, drift, failed rollouts.

Tests run in file order; the last one removes the session's images (destroy --images).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from mlopsctl.core.model import Action
from mlopsctl.errors import MlopsError
from mlopsctl.providers.deployment import DeploymentProvider, container_name
from tests.builders import FEATURES
from tests.serving.serving_repo import free_ports

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def call(port: int, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read().decode()
            status = resp.status
    except urllib.error.HTTPError as e:
        raw, status = e.read().decode(), e.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def rows(n: int) -> list[dict[str, float]]:
    import pandas as pd

    return pd.DataFrame(
        {f: [round(0.2 + (i * 0.37 + j * 1.3) % 7, 1) for i in range(n)] for j, f in enumerate(FEATURES)}
    ).to_dict("records")


def test_image_is_labelled_tagged_and_not_rebuilt(serving: Any, docker_client: Any) -> None:
    image = docker_client.images.get(f"mlopsctl/{serving.project}-iris:v1")
    labels = image.labels
    assert labels["mlopsctl.project"] == serving.project
    assert labels["mlopsctl.model"] == "iris"
    assert labels["mlopsctl.version"] == "1"
    digest = labels["mlopsctl.context-digest"]
    assert f"mlopsctl/{serving.project}-iris:ctx-{digest[:12]}" in image.tags
    # Built once: the same context plans no build.
    [change] = serving.plan(serving.ctx({"e": 1}, {"e": 8101}), "image")
    assert change.action is Action.NOOP, change.reasons


def test_model_only_change_reuses_dependency_layers(serving: Any) -> None:
    log = "\n".join(serving.build_logs[2])
    pip_step = log.split("RUN python -m pip install", 1)[1].split("Step ", 1)[0]
    assert "Using cache" in pip_step and "Collecting" not in pip_step
    model_step = log.split("COPY model/", 1)[1].split("Step ", 1)[0]
    assert "Using cache" not in model_step


def test_new_version_is_planned_as_a_build(serving: Any) -> None:
    [change] = serving.plan(serving.ctx({"a": 1, "b": 3}, {"a": 8101, "b": 8102}), "image")
    assert change.action is Action.UPDATE
    assert change.reasons == ("new model version 3 (b)",)
    assert change.requires is None  # the engine answers: nothing to say about it


def test_deploy_serves_the_same_predictions_as_in_process(serving: Any) -> None:
    [port] = free_ports(1)
    ctx = serving.ctx({"stg": 1}, {"stg": port})
    [change] = serving.converge(ctx, "deployment")
    assert change.action is Action.CREATE
    assert change.reasons == (f"container missing: start v1 on 127.0.0.1:{port}",)
    batch = rows(100)
    status, body = call(port, "/predict", {"rows": batch})
    assert status == 200, body
    import pandas as pd

    expected = serving.models[1].predict(pd.DataFrame(batch)).tolist()
    assert body["predictions"] == expected
    assert body["version"] == 1
    status, one = call(port, "/predict", batch[0])  # one bare row is accepted too
    assert status == 200 and one["predictions"] == expected[:1]

    # A wrong field and a missing one: 422 naming both.
    bad = dict(batch[0])
    bad["sepal_lenght"] = bad.pop("sepal_length")
    status, body = call(port, "/predict", {"rows": [batch[1], bad]})
    assert status == 422
    assert "rows[1].sepal_lenght: unknown field" in body["error"]
    assert "rows[1].sepal_length: field required" in body["error"]
    status, body = call(port, "/predict", {"rows": [{**batch[0], "petal_width": "wide"}]})
    assert status == 422 and "rows[0].petal_width" in body["error"]

    status, meta = call(port, "/metadata")
    assert status == 200 and meta["version"] == 1 and meta["metrics"] == {"accuracy": 0.95}
    assert meta["lineage"]["sklearn"]
    status, text = call(port, "/metrics")
    assert status == 200
    assert 'mlopsctl_requests_total{method="POST",path="/predict",status="422"} 2.0' in text
    assert "mlopsctl_request_duration_seconds_bucket" in text
    for label in set(expected):
        assert f'mlopsctl_predictions_total{{class="{label}"}}' in text
    # Converged: nothing more to do.
    [again] = serving.plan(serving.ctx({"stg": 1}, {"stg": port}), "deployment")
    assert again.action is Action.NOOP, again.reasons


def test_container_stopped_or_removed_by_hand_is_drift_that_apply_repairs(serving: Any, docker_client: Any) -> None:
    [port] = free_ports(1)
    serving.converge(serving.ctx({"drift": 2}, {"drift": port}), "deployment")
    name = container_name(serving.ctx({"drift": 2}, {"drift": port}), "iris", "drift")
    docker_client.containers.get(name + "-a").stop(timeout=5)  # the server behind the front

    [change] = serving.converge(serving.ctx({"drift": 2}, {"drift": port}), "deployment")
    assert change.action is Action.UPDATE, (change.reasons, change.before)
    assert "container stopped by hand" in change.reasons[0]
    assert call(port, "/health") == (200, {"status": "ok", "model": "iris", "version": 2})

    docker_client.containers.get(name).stop(timeout=5)  # the front
    [change] = serving.converge(serving.ctx({"drift": 2}, {"drift": port}), "deployment")
    assert change.action is Action.UPDATE
    assert change.reasons == (f"the front container on 127.0.0.1:{port} stopped by hand: start it again",)
    assert call(port, "/health")[0] == 200

    for c in docker_client.containers.list(all=True, filters={"name": name}):
        c.remove(force=True)
    [change] = serving.converge(serving.ctx({"drift": 2}, {"drift": port}), "deployment")
    assert change.action is Action.CREATE
    assert change.reasons[0].startswith("container missing")
    assert call(port, "/health")[0] == 200
    [again] = serving.plan(serving.ctx({"drift": 2}, {"drift": port}), "deployment")
    assert again.action is Action.NOOP


def test_unhealthy_version_leaves_the_old_one_serving(serving: Any, docker_client: Any) -> None:
    [port] = free_ports(1)
    serving.converge(serving.ctx({"canary": 1}, {"canary": port}), "deployment")
    ctx = serving.ctx({"canary": 3}, {"canary": port})
    serving.converge(ctx, "image")  # v3 builds fine; only running it fails
    [change] = serving.plan(ctx, "deployment")
    assert change.action is Action.REPLACE
    assert change.reasons == ("version 1 -> 3",)
    with pytest.raises(MlopsError) as err:
        DeploymentProvider().apply(change, ctx)
    message = str(err.value)
    assert "v3 never became healthy" in message
    assert "v1 keeps serving" in message
    assert "cannot load the model artifact" in message  # the container's own log
    assert call(port, "/health") == (200, {"status": "ok", "model": "iris", "version": 1})
    names = {c.name for c in docker_client.containers.list(all=True, filters={"label": f"mlopsctl.project={serving.project}"})}
    assert container_name(ctx, "iris", "canary") + "-b" not in names  # the failed server is gone


def test_promotion_replaces_the_container(serving: Any, docker_client: Any) -> None:
    [port] = free_ports(1)
    serving.converge(serving.ctx({"prod": 1}, {"prod": port}), "deployment")
    name = container_name(serving.ctx({"prod": 1}, {"prod": port}), "iris", "prod")
    front, old = docker_client.containers.get(name).id, docker_client.containers.get(name + "-a").id
    [change] = serving.converge(serving.ctx({"prod": 2}, {"prod": port}), "deployment")
    assert change.action is Action.REPLACE and change.reasons == ("version 1 -> 2",)
    assert call(port, "/health")[1]["version"] == 2
    ids = {c.id for c in docker_client.containers.list(all=True)}
    assert old not in ids and front in ids  # the front kept the port all along


def test_failed_build_shows_the_step_log_and_touches_no_deployment(serving: Any) -> None:
    from tests.serving.serving_repo import register

    [port] = free_ports(1)
    serving.converge(serving.ctx({"live": 1}, {"live": port}), "deployment")
    register(serving.root, serving.models[1], 4, sklearn="0.0.0")  # no such scikit-learn release
    ctx = serving.ctx({"live": 4}, {"live": port})
    [change] = serving.plan(ctx, "image")
    assert change.reasons == ("new model version 4 (live)",)
    from mlopsctl.providers.image import ImageProvider

    with pytest.raises(MlopsError) as err:
        ImageProvider().apply(change, ctx)
    message = str(err.value)
    assert "failed at Step" in message and "pip install" in message
    assert "scikit-learn==0.0.0" in message
    assert "No running deployment was touched" in message
    assert call(port, "/health")[1]["version"] == 1


def test_destroy_removes_containers_and_images_when_asked(serving: Any, docker_client: Any) -> None:
    from mlopsctl.core.plan import diff_one
    from mlopsctl.core.provider import get_provider

    ctx = serving.ctx({}, {"x": 1}, destroy=True)
    deployments = list(get_provider("deployment").existing(ctx))
    assert deployments and all(a.startswith("deployment.iris.") for a in deployments)
    assert list(get_provider("image").existing(ctx)) == []  # images are kept unless asked
    ctx.destroy_images = True
    assert list(get_provider("image").existing(ctx)) == ["image.iris"]
    for address in [*deployments, "image.iris"]:
        change = diff_one(ctx, address, None)
        assert change.action is Action.DELETE
        get_provider(change.kind).delete(change, ctx)
    label = f"mlopsctl.project={serving.project}"
    assert docker_client.containers.list(all=True, filters={"label": label}) == []
    assert docker_client.images.list(filters={"label": label}) == []
