"""The user's src/ in build contexts: taken from the version's commit, digested, only when needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlopsctl.errors import MlopsError
from mlopsctl.serving import buildctx as bctx
from tests.builders import git, write_tree
from tests.serving.serving_repo import context, fit, new_repo, register

CUSTOM_V1 = "from sklearn.linear_model import LogisticRegression\n\n\nclass Wrapped(LogisticRegression):\n    pass\n"
CUSTOM_V2 = CUSTOM_V1 + "\n\nSCALE = 2\n"


def _mv(ctx: Any, version: int) -> Any:
    from mlopsctl.registry.api import model_registry

    mv = model_registry(ctx, "iris").resolve(version)
    assert mv is not None
    return mv


@pytest.fixture
def src_repo(tmp_path: Path) -> Path:
    """v1 and v2 of a model whose estimator is ``src.custom.Wrapped``; src/custom.py differs between them."""
    root = new_repo(
        tmp_path,
        project="demo",
        base="python:3.11-slim",
        envs={"staging": 8101},
        serve={"staging": {"version": "latest"}},
    )
    pipe = fit(root, n_estimators=5)
    write_tree(
        root,
        {
            "src/__init__.py": "",
            "src/custom.py": CUSTOM_V1,
            "src/notes.txt": "not code\n",
            "src/pkg/__init__.py": "X = 1\n",
        },
    )
    git(root, "add", "src")
    register(root, pipe, 1, estimator="src.custom.Wrapped")
    (root / "src/custom.py").write_text(CUSTOM_V2)
    git(root, "add", "src")
    register(root, pipe, 2, estimator="src.custom.Wrapped")
    return root


def test_src_comes_from_the_version_commit_not_the_working_tree(src_repo: Path) -> None:
    # Uncommitted edits and bytecode in the working tree are not the registered code.
    (src_repo / "src/custom.py").write_text("raise SystemExit('working tree')\n")
    (src_repo / "src/__pycache__").mkdir()
    (src_repo / "src/__pycache__/custom.cpython-311.pyc").write_bytes(b"\0pyc")
    ctx = context(src_repo)
    v1 = bctx.build_context(ctx, "iris", _mv(ctx, 1))
    v2 = bctx.build_context(ctx, "iris", _mv(ctx, 2))
    src1 = {k: v for k, v in v1.files.items() if k.startswith("src/")}
    assert src1 == {"src/__init__.py": b"", "src/custom.py": CUSTOM_V1.encode(), "src/pkg/__init__.py": b"X = 1\n"}
    assert v2.files["src/custom.py"] == CUSTOM_V2.encode()
    # A change of src/ at a new version changes the src part (and the digest), nothing else but the model.
    assert v1.digest != v2.digest
    assert sorted(k for k in v1.parts if v1.parts[k] != v2.parts[k]) == ["model", "src"]
    # The plan of an image built for v1 before src/ was carried names what changed.
    old = {k: v for k, v in v1.parts.items() if k != "src"}
    assert bctx.changed_parts(old, v1.parts) == ["src"]


def test_written_context_holds_src_readable(src_repo: Path, tmp_path: Path) -> None:
    ctx = context(src_repo)
    bc = bctx.build_context(ctx, "iris", _mv(ctx, 2))
    dest = tmp_path / "ctx"
    dest.mkdir()
    bctx.write_context(ctx, bc, dest)
    assert (dest / "src/custom.py").read_text() == CUSTOM_V2
    assert not (dest / "src/notes.txt").exists() and not (dest / "src/.keep").exists()
    assert (dest / "src/pkg").stat().st_mode & 0o755 == 0o755
    dockerfile = bc.files["Dockerfile"].decode()
    # After the dependency layers, before the model layer.
    assert dockerfile.index("pip install") < dockerfile.index("COPY src/ /app/src/") < dockerfile.index("COPY model/")


def test_models_without_user_code_get_an_empty_src_and_no_src_part(tmp_path: Path) -> None:
    root = new_repo(
        tmp_path,
        project="demo",
        base="python:3.11-slim",
        envs={"staging": 8101},
        serve={"staging": {"version": "latest"}},
    )
    write_tree(root, {"src/helper.py": "X = 1\n"})
    git(root, "add", "src")
    register(root, fit(root, n_estimators=5), 1)  # a scikit-learn estimator
    ctx = context(root)
    bc = bctx.build_context(ctx, "iris", _mv(ctx, 1))
    assert "src" not in bc.parts
    assert not any(k.startswith("src/") for k in bc.files)
    dest = tmp_path / "ctx"
    dest.mkdir()
    bctx.write_context(ctx, bc, dest)
    assert [p.name for p in (dest / "src").iterdir()] == [".keep"]


def test_train_deps_under_src_carry_src(tmp_path: Path) -> None:
    root = new_repo(
        tmp_path,
        project="demo",
        base="python:3.11-slim",
        envs={"staging": 8101},
        serve={"staging": {"version": "latest"}},
    )
    write_tree(root, {"src/train.py": "print('train')\n"})
    git(root, "add", "src")
    register(root, fit(root, n_estimators=5), 1)
    ctx = context(root)
    doc = ctx.project.models["iris"]
    doc.data["train"] = {
        "cmd": "python src/train.py",
        "deps": ["src/train.py"],
        "outs": ["artifacts/iris/model.joblib"],
        "metrics": "artifacts/iris/metrics.json",
    }
    bc = bctx.build_context(ctx, "iris", _mv(ctx, 1))
    assert bc.files["src/train.py"] == b"print('train')\n" and "src" in bc.parts


def test_version_whose_commit_lacks_src_is_an_error_saying_what_to_do(tmp_path: Path) -> None:
    root = new_repo(
        tmp_path,
        project="demo",
        base="python:3.11-slim",
        envs={"staging": 8101},
        serve={"staging": {"version": "latest"}},
    )
    write_tree(root, {"src/custom.py": CUSTOM_V1})  # written, never committed
    register(root, fit(root, n_estimators=5), 1, estimator="src.custom.Wrapped")
    ctx = context(root)
    with pytest.raises(
        MlopsError,
        match=r"iris@v1\.0\.0 needs the repository's src/ to be served \(estimator "
        r"src\.custom\.Wrapped\), but its commit \w+ has no src/\*\.py: commit src/",
    ):
        bctx.build_context(ctx, "iris", _mv(ctx, 1))
