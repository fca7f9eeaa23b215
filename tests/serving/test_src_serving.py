"""A model whose estimator is a class in the user's src/, trained, registered and served by ``mlopsctl apply``."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import FEATURES, make_repo, run_mlopsctl
from tests.serving.serving_repo import base_image, cleanup, free_ports, unique_project

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CUSTOM = (
    "from sklearn.linear_model import LogisticRegression\n\n\n"
    "class Wrapped(LogisticRegression):\n"
    '    """A thin subclass: pickled by reference to src.custom, which only the repository has."""\n'
)

# In-process predictions of the registered artifact, in a fresh interpreter so this repository's
# ``src`` package does not leak into the test process.
PREDICT = """
import json, sys
import joblib, pandas as pd
sys.path.insert(0, ".")
model = joblib.load(sys.argv[1])
print(json.dumps({"cls": type(model[-1]).__module__ + "." + type(model[-1]).__name__,
                  "predictions": model.predict(pd.DataFrame(json.load(sys.stdin))).tolist()}))
"""


@pytest.fixture
def applied(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    project = unique_project()
    [port] = free_ports(1)
    root = make_repo(
        tmp_path,
        project={
            "name": project,
            "environments": {"staging": {"port": port}, "production": None},
            "images": {"base": base_image(), "ca_certificates": []},
        },
        model={
            "estimator": {
                "class": "src.custom.Wrapped",
                "params": {"n_estimators": None, "random_state": None, "max_iter": 500},
            },
            "serve": {"staging": {"version": "latest"}},
        },
        files={"src/__init__.py": "", "src/custom.py": CUSTOM, ".gitignore": ".mlopsctl/\n__pycache__/\n/artifacts/\n"},
    )
    try:
        proc = run_mlopsctl(["apply", "--auto-approve"], root, timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        yield root, port
    finally:
        cleanup(project)


def test_src_estimator_is_served_with_in_process_predictions(applied: tuple[Path, int], tmp_path: Path) -> None:
    root, port = applied
    from mlopsctl.core.context import Context
    from mlopsctl.registry.api import materialize, model_registry
    from mlopsctl.specs.load import load_project

    ctx = Context(root=root, project=load_project(root, cache=False), log=lambda _m: None)
    mv = model_registry(ctx, "iris").resolve("latest")
    assert mv is not None and mv.lineage["estimator"] == "src.custom.Wrapped"
    artifact = materialize(root, mv, tmp_path / "model.joblib")

    import pandas as pd

    batch = pd.read_csv(root / "data/iris.csv")[list(FEATURES)].head(40).to_dict("records")
    local = subprocess.run(
        [sys.executable, "-c", PREDICT, str(artifact)],
        cwd=root,
        input=json.dumps(batch),
        capture_output=True,
        text=True,
        check=True,
    )
    expected = json.loads(local.stdout)
    assert expected["cls"] == "src.custom.Wrapped"

    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/predict",
        data=json.dumps({"rows": batch}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = json.loads(resp.read())
    assert body["version"] == mv.version
    assert body["predictions"] == expected["predictions"]

    # Converged: the image (with src/) and the deployment plan nothing more.
    again = run_mlopsctl(["plan", "--detailed-exitcode"], root)
    assert again.returncode == 0, again.stdout + again.stderr
