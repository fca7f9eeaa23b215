"""Generated bad specs: loading must end in a SpecError (or succeed), never in anything else.

Valid specs are mutated (wrong types, random keys, removed keys, random bytes, truncation,
deep nesting) and written to a real repository; ``load_project`` may accept a mutation that
happens to be valid, but any failure must be a :class:`SpecError` whose problems have a file.
A few of them also go through ``mlopsctl validate`` in a subprocess: exit 1, no traceback.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlopsctl.errors import SpecError
from mlopsctl.specs.load import load_project
from tests.builders import make_repo, model_spec, project_spec, run_mlopsctl, to_yaml

# Real DVC runs, training or Git registries in every test: left out of the fast suite.
pytestmark = pytest.mark.slow


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


@pytest.fixture(scope="module")
def repo() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        yield make_repo(d, commit=False)


def paths_of(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(paths_of(v, (*prefix, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(paths_of(v, (*prefix, i)))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 4))):
        paths = paths_of(doc)
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        op = draw(st.sampled_from(["replace", "add_key", "delete"]))
        if op == "replace":
            parent[path[-1]] = draw(values)
        elif op == "add_key" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        elif isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent.pop(path[-1])
    return doc


def check(root: Path, rel: str, content: str | bytes, *, cache: bool = False) -> None:
    path = root / rel
    original = path.read_bytes()
    try:
        path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
        try:
            load_project(root, cache=cache)
        except SpecError as e:
            assert e.problems
            assert all(p.location.file for p in e.problems)
            str(e)  # formatting never fails either
    finally:
        path.write_bytes(original)


@SETTINGS
@given(doc=mutated(model_spec()))
def test_mutated_model_specs(repo: Path, doc: dict[str, Any]) -> None:
    check(repo, "models/iris.yaml", to_yaml(doc))


@SETTINGS
@given(doc=mutated(project_spec()))
def test_mutated_project_specs(repo: Path, doc: dict[str, Any]) -> None:
    check(repo, "mlops.yaml", to_yaml(doc), cache=True)


@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes(repo: Path, data: bytes) -> None:
    check(repo, "models/iris.yaml", data)


@SETTINGS
@given(cut=st.integers(0, 2000), extra=st.sampled_from(["", "\n", ": [", "\t", "&a *a", "{", "'", '"', "? "]))
def test_truncated_yaml(repo: Path, cut: int, extra: str) -> None:
    text = to_yaml(model_spec())
    check(repo, "models/iris.yaml", text[: cut % (len(text) + 1)] + extra)


@SETTINGS
@given(depth=st.integers(1, 400), flow=st.booleans(), opener=st.sampled_from(["[", "{a: "]))
def test_deep_nesting(repo: Path, depth: int, flow: bool, opener: str) -> None:
    if flow:
        closer = "]" if opener == "[" else "}"
        body = "features: " + opener * depth + "1" + closer * depth + "\n"
    else:
        body = "features:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(depth)) + "  " * (depth + 1) + "v: 1\n"
    check(repo, "models/iris.yaml", to_yaml(model_spec(features=None)) + body)


BAD_FOR_THE_CLI = [
    b"\xff\xfe\x00garbage",
    b"apiVersion: mlopsctl/v1\nkind: Model\nname: [unclosed\n",
    b"a: &a [*a, *a]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c]\n" * 3,
    b"- just\n- a list\n",
    b"apiVersion: mlopsctl/v1\nkind: Model\nname: 7\nestimator: 3\n",
    b"x: " + b"[" * 3000,
]


@pytest.mark.parametrize("content", BAD_FOR_THE_CLI)
def test_cli_never_shows_a_traceback(tmp_path: Path, content: bytes) -> None:
    root = make_repo(tmp_path, commit=False)
    (root / "models/iris.yaml").write_bytes(content)
    for fmt in ("text", "json"):
        proc = run_mlopsctl(["validate", "--format", fmt], root, timeout=60)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        assert "models/iris.yaml" in proc.stdout
