"""Kubernetes manifests: rendered for every option, checked with kubernetes-validate --strict (offline)."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.serving import kubernetes as k8s
from mlopsctl.specs.load import collect_problems
from tests.builders import make_repo

IMAGE = "ghcr.io/acme/mlopsctl/demo-iris@sha256:" + "ab" * 32
RESOURCES = [None, {"requests": {"cpu": "100m", "memory": "256Mi"}},
             {"requests": {"cpu": 0.25}, "limits": {"cpu": 1, "memory": "512Mi"}}]


def validator() -> str:
    found = shutil.which("kubernetes-validate", path=str(Path(sys.executable).parent)) or shutil.which(
        "kubernetes-validate")
    if found is None:
        pytest.fail("kubernetes-validate is not installed (it is a test dependency in pyproject.toml)")
    return found


def validate(folder: Path, version: str) -> str:
    files = sorted(str(p) for p in folder.glob("*.yaml") if p.name != "kustomization.yaml")
    proc = subprocess.run([validator(), "--strict", "-k", f"{version}.0", *files], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


OPTIONS = list(itertools.product(["1.25", "1.30", "1.37"], [1, 3], RESOURCES, [None, "iris.example.com"], [False, True]))


@pytest.mark.parametrize(("version", "replicas", "resources", "host", "kserve"), OPTIONS[::12] + OPTIONS[-1:])
def test_manifests_pass_strict_validation(tmp_path: Path, version: str, replicas: int, resources: Any,
                                          host: str | None, kserve: bool) -> None:
    settings = k8s.Settings(namespace="ml", replicas=replicas, resources=resources, ingress_host=host, kserve=kserve,
                            version=version)
    texts = k8s.render("demo", "iris", "production", 3, IMAGE, settings)
    k8s.write(tmp_path, "deploy", texts)
    out = validate(tmp_path / "deploy", version)
    if kserve:
        assert sorted(texts) == ["inferenceservice.yaml", "kustomization.yaml"]
        assert "Couldn't find schema for kind InferenceService" in out  # a CRD: the schema is KServe's
    else:
        expected = ["deployment.yaml", "kustomization.yaml", "service.yaml"] + (["ingress.yaml"] if host else [])
        assert sorted(texts) == sorted(expected)
        assert "ERROR" not in out


def test_every_option_combination_validates(tmp_path: Path) -> None:
    """All combinations at once (one validator run per Kubernetes version)."""
    for version in ("1.25", "1.30", "1.37"):
        d = tmp_path / version
        for i, (_, replicas, resources, host, kserve) in enumerate(o for o in OPTIONS if o[0] == version):
            settings = k8s.Settings(replicas=replicas, resources=resources, ingress_host=host, kserve=kserve,
                                    version=version)
            for name, text in k8s.render("demo", "iris", "staging", 1, IMAGE, settings).items():
                (d / f"{i:02d}-{name}").parent.mkdir(parents=True, exist_ok=True)
                (d / f"{i:02d}-{name}").write_text(text)
        validate(d, version)


def test_deployment_shape() -> None:
    from ruamel.yaml import YAML

    settings = k8s.Settings(namespace="ml", replicas=2, resources=RESOURCES[2], ingress_host="iris.example.com")
    texts = k8s.render("demo", "iris", "production", 3, IMAGE, settings)
    dep = YAML(typ="safe").load(texts["deployment.yaml"])
    assert dep["metadata"]["namespace"] == "ml" and dep["spec"]["replicas"] == 2
    [c] = dep["spec"]["template"]["spec"]["containers"]
    assert c["image"] == IMAGE  # by registry digest
    assert c["readinessProbe"]["httpGet"]["path"] == c["livenessProbe"]["httpGet"]["path"] == "/health"
    assert c["resources"] == {"requests": {"cpu": "0.25"}, "limits": {"cpu": "1", "memory": "512Mi"}}
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/version"] == "v3" and labels["mlopsctl.io/environment"] == "production"
    assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    kust = YAML(typ="safe").load(texts["kustomization.yaml"])
    assert kust["resources"] == ["deployment.yaml", "ingress.yaml", "service.yaml"]
    assert all(t.startswith("# Managed by mlopsctl") for t in texts.values())


def test_switching_kserve_on_removes_the_deployment_files(tmp_path: Path) -> None:
    k8s.write(tmp_path, "d", k8s.render("demo", "iris", "e", 1, IMAGE, k8s.Settings()))
    k8s.write(tmp_path, "d", k8s.render("demo", "iris", "e", 1, IMAGE, k8s.Settings(kserve=True)))
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["inferenceservice.yaml", "kustomization.yaml"]


def test_kubernetes_needs_a_registry_and_no_port(tmp_path: Path) -> None:
    envs = {"staging": {"port": 8101}, "production": {"target": "kubernetes", "kubernetes": {"namespace": "ml"}}}
    root = make_repo(tmp_path, commit=False, project={"environments": envs},
                     model={"serve": {"production": {"version": "latest"}}})
    _, problems = collect_problems(root, cache=False)
    assert [(p.location.file, p.path) for p in problems] == [("mlops.yaml", "environments.production.target")]
    assert "set images.repository to one the cluster can reach" in problems[0].message
    root = make_repo(tmp_path, name="with-registry", commit=False,
                     project={"environments": envs, "images": {"repository": "ghcr.io/acme"}},
                     model={"serve": {"production": {"version": "latest"}}})
    _, problems = collect_problems(root, cache=False)
    assert problems == []
