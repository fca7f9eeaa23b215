from __future__ import annotations

import random
import shutil
import subprocess

import pytest

from mlopsctl.core.model import Action
from mlopsctl.render.dot import model_of, render_dot

NODES: list[tuple[str, tuple[str, ...], str | None]] = [
    ("file.dvc.yaml", (), "create"),
    ("dataset.data/iris.csv", (), None),
    ("stage.iris.train", ("dataset.data/iris.csv", "file.dvc.yaml"), "update"),
    ("model.iris", ("stage.iris.train",), "no-op"),
    ("registry.iris.staging", ("model.iris",), None),
    ("image.iris", ("model.iris",), Action.REPLACE),
    ("deployment.iris.staging", ("image.iris", "registry.iris.staging"), "delete"),
    ("stage.wine.train", ("dataset.data/wine.csv",), "create"),
]


def test_digraph_with_clusters_edges_and_colours() -> None:
    out = render_dot(NODES)
    assert out.startswith("digraph mlopsctl {\n") and out.endswith("}\n")
    assert '"dataset.data/iris.csv" -> "stage.iris.train";' in out
    assert '"image.iris" -> "deployment.iris.staging";' in out
    assert '  subgraph "cluster_iris" {\n    label="model iris";' in out
    assert '  subgraph "cluster_wine" {' in out
    # Project-wide resources sit outside the clusters, at the top level.
    assert '\n  "file.dvc.yaml" [fillcolor="#c8f0c8", tooltip="create"];' in out
    assert '\n  "dataset.data/iris.csv";' in out
    assert '"image.iris" [fillcolor="#ffc89a", tooltip="replace"];' in out  # an Action works as well as its value
    assert '"stage.iris.train" [fillcolor="#fff1a8", tooltip="update"];' in out
    assert '"deployment.iris.staging" [fillcolor="#f6b0b0", tooltip="delete", fontcolor="#7a0000"];' in out
    # A dependency that is not itself a node still gets its edge (Graphviz draws the node).
    assert '"dataset.data/wine.csv" -> "stage.wine.train";' in out


def test_order_does_not_depend_on_input_order() -> None:
    shuffled = NODES[:]
    random.Random(4).shuffle(shuffled)
    shuffled = [(a, tuple(reversed(d)), act) for a, d, act in shuffled]
    assert render_dot(shuffled) == render_dot(NODES)


def test_quoting() -> None:
    out = render_dot([('file.we"ird\\name', (), None)])
    assert '"file.we\\"ird\\\\name";' in out


def test_model_of() -> None:
    assert model_of("stage.iris.train") == "iris"
    assert model_of("deployment.iris.production") == "iris"
    assert model_of("model.iris") == "iris"
    assert model_of("file.docker/iris/Dockerfile") is None
    assert model_of("dataset.data/iris.csv") is None


def test_empty_graph() -> None:
    assert render_dot([]).startswith("digraph mlopsctl {")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_accepts_it() -> None:
    result = subprocess.run(["dot", "-Tsvg"], input=render_dot(NODES), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "<svg" in result.stdout


def test_owner_puts_a_models_files_in_its_cluster() -> None:
    nodes = [("file.docker/iris/Dockerfile", (), None), ("image.iris", ("file.docker/iris/Dockerfile",), None)]
    text = render_dot(nodes, owners={"file.docker/iris/Dockerfile": "iris"})
    cluster = text[text.index('subgraph "cluster_iris"'):text.index("  }")]
    assert '"file.docker/iris/Dockerfile"' in cluster and '"image.iris"' in cluster
    assert 'subgraph' not in render_dot(nodes[:1])  # without an owner, a file is project-wide
