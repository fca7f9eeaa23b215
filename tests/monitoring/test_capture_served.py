"""A real served container captures its requests; ``drift --env`` finds the drift sent on purpose."""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.builders import FEATURES, git, model_spec, to_yaml
from tests.serving.serving_repo import base_image, cleanup, context, fit, free_ports, new_repo, register, unique_project

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _post(port: int, rows: list[dict[str, float]]) -> Any:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=json.dumps({"rows": rows}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    import pandas as pd

    from mlopsctl.core.model import Action
    from mlopsctl.core.plan import diff_one
    from mlopsctl.core.provider import get_provider
    from mlopsctl.monitoring.profile import write_profile

    project = unique_project()
    [port] = free_ports(1)
    root = new_repo(tmp_path / "srv", project=project, base=base_image(), envs={"staging": port},
                    serve={"staging": {"version": "latest"}})
    monitor = {"drift": {"method": "psi", "threshold": 0.2}, "capture": {"enabled": True, "sample": 1.0, "max_mb": 5}}
    (root / "models/iris.yaml").write_text(to_yaml(model_spec("iris", serve={"staging": {"version": "latest"}},
                                                              monitor=monitor)), encoding="utf-8")
    git(root, "commit", "-q", "-am", "monitor iris")
    pipe = fit(root, n_estimators=10)
    X = pd.read_csv(root / "data/iris.csv")[list(FEATURES)]
    features = {f: {"type": "float", "min": 0, "max": 100} for f in FEATURES}
    record = write_profile(root / "artifacts/iris", X, pipe.predict(X), features, "classification", "iris")
    raw = (root / record["path"]).read_bytes()
    cached = root / ".dvc/cache/files/md5" / record["md5"][:2] / record["md5"][2:]
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(raw)
    assert hashlib.sha256(raw).hexdigest() == record["sha256"]
    register(root, pipe, 1, profile=record)
    try:
        for kind in ("image", "deployment"):
            ctx = context(root)
            for r in get_provider(kind).expand(ctx):
                change = diff_one(ctx, r.address, r)
                ctx.upstream[r.address] = change
                if change.action is not Action.NOOP:
                    if kind == "deployment":
                        assert "request capture off -> sample=1, max_mb=5" in change.reasons or change.action \
                            is Action.CREATE
                    get_provider(kind).apply(change, ctx)
        yield root, port
    finally:
        cleanup(project)
        shutil.rmtree(root / ".mlopsctl", ignore_errors=True)


def test_captured_requests_drifted_on_purpose(deployed: tuple[Path, int], cli: Any) -> None:
    root, port = deployed
    import pandas as pd

    rows = pd.read_csv(root / "data/iris.csv")[list(FEATURES)].head(90)
    rows["petal_width"] = (rows["petal_width"] + 1.5).round(2)
    rows = pd.concat([rows] * 3, ignore_index=True)  # 270 rows: over the drift check's minimum of 200
    body = _post(port, rows.to_dict("records")[:45])
    _post(port, rows.to_dict("records")[45:])
    assert body["version"] == 1
    log = root / ".mlopsctl/capture/iris/staging/requests.jsonl"
    lines = log.read_text().splitlines()
    assert len(lines) == 270
    first = json.loads(lines[0])
    assert first["version"] == 1 and first["prediction"] == body["predictions"][0]
    assert first["features"]["petal_width"] == rows["petal_width"].iloc[0]
    res = cli("drift", "iris", "--env", "staging", "--format", "json", "--fail-on-drift", repo=root)
    assert res.exit_code == 1 and res.stdout, res.output
    doc = json.loads(res.stdout)
    assert doc["environment"] == "staging" and doc["rows"] == 270 and doc["version"] == 1
    assert doc["drifted_features"][0] == "petal_width"
    assert doc["prediction"] is not None  # from the captured predictions, no model loaded
