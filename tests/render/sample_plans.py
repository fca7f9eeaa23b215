"""A fixed plan that exercises every part of the renderers (built by hand: the plan is plain data)."""

from __future__ import annotations

from mlopsctl.core.model import Action, Change, Plan
from mlopsctl.errors import Location

DVC_YAML_DIFF = """\
--- a/dvc.yaml
+++ b/dvc.yaml
@@ -3,3 +3,3 @@
   iris-train:
-    cmd: mlopsctl train iris --n-estimators 100
+    cmd: mlopsctl train iris --n-estimators 200
     deps:
"""


def sample_plan() -> Plan:
    """Creates, updates (one with a diff, one blocked), a replace needing Docker, a delete, no-ops, a warning."""
    return Plan(
        changes=(
            Change(
                "file.dvc.yaml",
                Action.UPDATE,
                before={"digest": "sha256:aaa"},
                after={"digest": "sha256:bbb", "template": "pipeline/dvc.yaml.j2"},
                reasons=("template output changed",),
                diff=DVC_YAML_DIFF,
                fingerprint="f1",
                payload={"content": "stages: {}\n"},
            ),
            Change(
                "file.docker/iris/Dockerfile",
                Action.CREATE,
                after={"digest": "sha256:ccc"},
                reasons=("new managed file",),
                model="iris",
                payload={"content": "FROM python:3.11-slim\n"},
            ),
            Change("dataset.data/iris.csv", Action.NOOP, before={"md5": "1"}, after={"md5": "1"}),
            Change(
                "stage.iris.train",
                Action.UPDATE,
                before={"params": {"n_estimators": 100, "random_state": 0}},
                after={"params": {"random_state": 0, "n_estimators": 200}},
                reasons=("estimator.params.n_estimators 100 -> 200", "reruns because dataset.data/iris.csv changes"),
                depends_on=("dataset.data/iris.csv", "file.dvc.yaml"),
                model="iris",
                source=Location("models/iris.yaml", 12, 3),
            ),
            Change(
                "file.serve/iris/app.py",
                Action.UPDATE,
                before={"digest": "sha256:ddd"},
                after={"digest": "sha256:eee"},
                reasons=("edited by hand since last apply (drift)",),
                blocked="the hand edit is not committed to Git; pass --force to overwrite it (a backup is kept)",
                model="iris",
            ),
            Change(
                "image.iris",
                Action.REPLACE,
                before={"id": "sha256:111"},
                after={"digest": "sha256:222"},
                reasons=("docker/iris/Dockerfile changed",),
                requires="a Docker engine",
                depends_on=("file.docker/iris/Dockerfile", "model.iris"),
                model="iris",
            ),
            Change(
                "file.params/old.yaml",
                Action.DELETE,
                before={"digest": "sha256:fff"},
                reasons=("no longer desired (model old was removed)",),
            ),
            Change("registry.iris.staging", Action.NOOP, depends_on=("model.iris",), model="iris"),
        ),
        pins={"git_head": "0123abc", "specs": {"models/iris.yaml": "sha256:9", "mlops.yaml": "sha256:8"}},
        project="demo",
        warnings=("no Docker engine found: image and deployment changes are planned, apply stops at them",),
        created_at="2024-01-02T03:04:05Z",
        mlopsctl_version="0.1.0",
    )


def empty_plan() -> Plan:
    return Plan(
        changes=(Change("file.dvc.yaml", Action.NOOP), Change("dataset.data/iris.csv", Action.NOOP)),
        pins={},
        project="demo",
        mlopsctl_version="0.1.0",
    )
