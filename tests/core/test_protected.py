"""Destruction is never implied: protected environments and the deleted-deployments banner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core import provider as base
from mlopsctl.core.apply import execute
from mlopsctl.core.context import Context
from mlopsctl.core.model import Resource
from mlopsctl.core.plan import compute_plan
from mlopsctl.core.state import Journal
from mlopsctl.errors import ApplyError
from mlopsctl.render import render
from mlopsctl.specs.model import Project, SpecDoc
from tests.core.notes import NoteProvider


class Deployments(NoteProvider):
    """Notes addressed as deployments: files under notes/ stand in for containers."""

    kind = "deployment"

    def expand(self, ctx: Context) -> list[Resource]:
        return [Resource("deployment", n, {"text": v["text"]}) for n, v in self.notes.items()]

    def existing(self, ctx: Context) -> list[str]:
        d = ctx.root / "notes"
        return [f"deployment.{p.stem}" for p in sorted(d.glob("*.txt"))] if d.exists() else []


@pytest.fixture
def deployments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Deployments:
    provider = Deployments({})
    monkeypatch.setattr(base, "PROVIDERS", {"deployment": "x:Deployments"})
    monkeypatch.setattr(base, "_instances", {"deployment": provider})
    (tmp_path / "notes").mkdir()
    for name in ("iris.staging", "iris.production"):
        (tmp_path / "notes" / f"{name}.txt").write_text("v1")
    return provider


def ctx_for(root: Path, **kw: Any) -> Context:
    envs = {"staging": {"port": 1}, "production": {"port": 2, "protected": True}}
    spec = SpecDoc("mlops.yaml", {"name": "demo", "environments": envs},
                   lines={"environments.production.protected": (7, 5)}, digest="d0")
    return Context(root=root, project=Project(root=root, spec=spec, models={}), log=lambda m: None,
                   allow_no_models=True, **kw)


def test_a_protected_deployment_is_never_deleted_without_the_flag(tmp_path: Path, deployments) -> None:
    plan = compute_plan(ctx_for(tmp_path))
    prod = plan.get("deployment.iris.production")
    assert prod is not None and prod.action.value == "delete"
    assert prod.blocked == ("environment 'production' is protected (mlops.yaml:7:5): its deployment is deleted "
                            "only with --allow-destroy-protected")
    assert not plan.get("deployment.iris.staging").blocked
    assert [c.address for c in plan.refused(force=True)] == ["deployment.iris.production"]
    with pytest.raises(ApplyError, match="is protected"):
        execute(ctx_for(tmp_path, force=True), plan, Journal(tmp_path / ".mlopsctl"))
    assert (tmp_path / "notes/iris.production.txt").exists()
    assert not (tmp_path / "notes/iris.staging.txt").exists()
    allowed = compute_plan(ctx_for(tmp_path, allow_destroy_protected=True))
    assert not allowed.get("deployment.iris.production").blocked
    assert allowed.options["allow_destroy_protected"] is True


def test_deleting_deployments_is_said_in_a_banner(tmp_path: Path, deployments) -> None:
    plan = compute_plan(ctx_for(tmp_path, allow_destroy_protected=True))
    text = render(plan, "text", color=False)
    assert text.index("!! This plan DELETES 2 deployments") < text.index("mlopsctl will perform")
    assert "deployment.iris.production" in text.split("\n\n")[0]
    md = render(plan, "markdown", color=False)
    assert "> [!CAUTION]\n> **This plan deletes 2 deployments; they stop serving:**" in md


def test_destroy_keeps_a_protected_deployment_too(tmp_path: Path, deployments) -> None:
    ctx = ctx_for(tmp_path)
    deployments.notes.update({"iris.staging": {"text": "v1"}, "iris.production": {"text": "v1"}})
    plan = compute_plan(ctx, destroy=True)
    assert [c.address for c in plan.refused(force=True)] == ["deployment.iris.production"]
    assert not compute_plan(ctx_for(tmp_path, allow_destroy_protected=True), destroy=True).refused(False)
