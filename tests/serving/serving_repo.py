"""Builders for serving tests: a real repository with registered model versions.

Versions are made the way training and the registry make them: a fitted scikit-learn Pipeline
saved with joblib under ``artifacts/<model>/``, its bytes stored in the DVC cache by md5, and
an annotated ``<model>@v<N>.0.0`` tag whose JSON message records the artifact and lineage.
"""

from __future__ import annotations

import hashlib
import platform
import shutil
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any

from mlopsctl.core.context import Context
from mlopsctl.specs.model import Project, SpecDoc
from tests.builders import FEATURES, git, make_repo

LOCAL_BASE = "mlopsctl/base:bookworm"


class Unloadable:
    """Pickled by reference to this test module, which no image has: loading it fails."""


def base_image() -> str:
    """The local base when the engine has it (no registry reachable here), else the public one."""
    probe = subprocess.run(["docker", "image", "inspect", LOCAL_BASE], capture_output=True, check=False)
    return LOCAL_BASE if probe.returncode == 0 else "python:3.11-slim"


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def unique_project() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def new_repo(tmp: Path, *, project: str, base: str, envs: dict[str, int], serve: dict[str, Any]) -> Path:
    root = make_repo(
        tmp,
        project={
            "name": project,
            # The builders' defaults (staging, production) are merged in; None removes them.
            "environments": {"staging": None, "production": None, **{env: {"port": port} for env, port in envs.items()}},
            "images": {"base": base, "ca_certificates": []},
        },
        model={"serve": serve},
        files={".gitignore": ".mlopsctl/\n__pycache__/\n/artifacts/\n"},
    )
    (root / ".dvc" / "cache").mkdir(parents=True)
    return root


def fit(root: Path, n_estimators: int = 20) -> Any:
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_csv(root / "data" / "iris.csv")
    pipe = Pipeline([("scale", StandardScaler()), ("clf", RandomForestClassifier(n_estimators=n_estimators, random_state=0))])
    return pipe.fit(frame[list(FEATURES)], frame["species"])


def spec_features() -> dict[str, Any]:
    return {f: {"type": "float", "min": 0, "max": 100} for f in FEATURES}


def register(root: Path, obj: Any, version: int, model: str = "iris", **lineage: Any) -> str:
    """Save ``obj`` as version ``version`` of ``model`` (artifact in the DVC cache + tag); returns the tag."""
    import joblib
    import sklearn

    from mlopsctl.registry.tags import write_tag

    art = root / "artifacts" / model
    art.mkdir(parents=True, exist_ok=True)
    path = art / "model.joblib"
    joblib.dump(obj, path)
    data = path.read_bytes()
    md5, sha = hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()
    cached = root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, cached)
    git(root, "commit", "-q", "--allow-empty", "-m", f"train {model} v{version}")
    head = git(root, "rev-parse", "HEAD")
    record = {
        "model": model,
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "features": spec_features(),
        "target": "species",
        "task": "classification",
        "classes": [str(c) for c in getattr(obj, "classes_", [])],
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        **lineage,
    }
    tag = f"{model}@v{version}.0.0"
    payload = {
        "version": version,
        "artifact": {"path": f"artifacts/{model}/model.joblib", "md5": md5, "sha256": sha},
        "metrics": {"accuracy": 0.95},
        "lineage": record,
    }
    write_tag(root, tag, head, payload)
    path.unlink()  # the DVC cache holds it, as after a later training run
    return tag


def context(root: Path, *, serve: dict[str, Any] | None = None, project: dict[str, Any] | None = None,
            logs: list[str] | None = None, destroy: bool = False) -> Context:
    """A Context from the repository's specs, with ``serve``/``project`` keys overridden in memory."""
    from mlopsctl.specs.load import load_project

    loaded = load_project(root, cache=False)
    pdata = {**loaded.spec.data, **(project or {})}
    models = {}
    for name, doc in loaded.models.items():
        data = dict(doc.data)
        if serve is not None:
            data["serve"] = serve
        models[name] = SpecDoc(doc.path, data, doc.lines, doc.digest)
    proj = Project(root, SpecDoc(loaded.spec.path, pdata, loaded.spec.lines, loaded.spec.digest), models)
    sink = logs if logs is not None else []
    # Notes and raw build output (which apply sends to its run log) both land in ``logs``.
    return Context(root=root, project=proj, log=sink.append, destroy=destroy, run_log=_Lines(sink))  # type: ignore[arg-type]


class _Lines:
    """Stands in for apply's RunLog: keeps the lines."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def write(self, address: str | None, line: str) -> None:
        self.lines.append(line)


def cleanup(project: str) -> None:
    """Remove every container, image and network labelled with ``project``."""
    label = f"label=mlopsctl.project={project}"
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", label], capture_output=True, text=True, check=False).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, check=False)
    ids = subprocess.run(["docker", "images", "-q", "--filter", label], capture_output=True, text=True, check=False).stdout.split()
    if ids:
        subprocess.run(["docker", "rmi", "-f", *sorted(set(ids))], capture_output=True, check=False)
    ids = subprocess.run(["docker", "network", "ls", "-q", "--filter", label], capture_output=True, text=True,
                         check=False).stdout.split()
    if ids:
        subprocess.run(["docker", "network", "rm", *ids], capture_output=True, check=False)
