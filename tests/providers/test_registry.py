"""The registry provider: environment assignments from ``serve``, promotion and rollback as reviewed
spec changes with metric deltas, unknown versions refused with the spec location, GTO agreeing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.core.model import Action, Change
from mlopsctl.errors import MlopsError
from mlopsctl.providers.registry import RegistryProvider
from mlopsctl.registry import api
from tests.registry.registry_builders import (
    assign,
    context,
    gto_show,
    plan_one,
    register,
    retrain_and_register,
    set_model,
    tags,
)

# Real DVC runs, training or Git registries in every test: left out of the fast suite.
pytestmark = pytest.mark.slow



def _plan(root: Path, address: str, model_change: Change | None = None) -> tuple[object, Change]:
    ctx = context(root)
    ctx.upstream["model.iris"] = model_change or Change(address="model.iris", action=Action.NOOP)
    return ctx, plan_one(RegistryProvider(), address, ctx)


@pytest.fixture
def two_versions(reg_repo: Path) -> Path:
    """v1 (accuracy 0.913) and v2 (accuracy 1.0) on their own commits."""
    register(reg_repo)
    retrain_and_register(reg_repo, columns=4)
    return reg_repo


def test_expand(reg_repo: Path) -> None:
    set_model(reg_repo, serve={"staging": {"version": "latest"}, "production": {"version": 2}})
    res = {r.address: r for r in RegistryProvider().expand(context(reg_repo))}
    assert set(res) == {"registry.iris.staging", "registry.iris.production"}
    assert res["registry.iris.production"].desired == {"version": 2}
    # The assignment moves after the deployment: it names what serves.
    assert res["registry.iris.production"].depends_on == ("model.iris", "deployment.iris.production")
    src = res["registry.iris.production"].source
    assert src is not None and src.file == "models/iris.yaml" and src.line is not None


def test_latest_points_to_the_version_being_registered(reg_repo: Path) -> None:
    pending = Change(address="model.iris", action=Action.CREATE, after={"version": 1})
    _, change = _plan(reg_repo, "registry.iris.staging", pending)
    assert change.action is Action.CREATE
    assert change.reasons == ("staging: nothing -> v1: will point to the new version once registered",)
    register(reg_repo)
    ctx, change = _plan(reg_repo, "registry.iris.staging")
    assert change.reasons == ("staging: assign v1 (accuracy 0.913, f1_macro 0.9106)",)
    facts = RegistryProvider().apply(change, ctx)
    assert facts == {"version": 1, "tag": "iris#staging#1", "previous": None}
    assert gto_show(reg_repo)["iris"]["stage"]["staging"] == "v1.0.0"
    assert _plan(reg_repo, "registry.iris.staging")[1].action is Action.NOOP


def test_latest_follows_new_versions(two_versions: Path) -> None:
    root = two_versions
    change = assign(root, "staging")
    assert change.reasons[0].startswith("staging: assign v2")
    assert api.assignment(root, "iris", "staging").version == 2  # type: ignore[union-attr]
    assert assign(root, "staging").action is Action.NOOP


def test_promotion_and_rollback_show_metric_deltas(two_versions: Path) -> None:
    root = two_versions
    set_model(root, serve={"production": {"version": 1}})
    assign(root, "production")

    set_model(root, serve={"production": {"version": 2}})
    change = assign(root, "production")
    assert change.action is Action.UPDATE
    assert change.before == {"version": 1} and change.after == {"version": 2}
    assert change.reasons == (
        "production: v1 -> v2 (promotion; accuracy 0.913 -> 1, +0.087; f1_macro 0.9106 -> 1, +0.0894)",
    )
    assert gto_show(root)["iris"]["stage"]["production"] == "v2.0.0"

    set_model(root, serve={"production": {"version": 1}})
    change = assign(root, "production")
    assert change.reasons == (
        "production: v2 -> v1 (rollback; accuracy 1 -> 0.913, -0.087; f1_macro 1 -> 0.9106, -0.0894)",
    )
    assert api.assignment(root, "iris", "production").version == 1  # type: ignore[union-attr]
    assert gto_show(root)["iris"]["stage"]["production"] == "v1.0.0"
    assert sorted(t for t in tags(root) if "#" in t) == ["iris#production#1", "iris#production#2", "iris#production#3"]


def test_unknown_version_is_blocked_with_its_location(two_versions: Path) -> None:
    root = two_versions
    set_model(root, serve={"production": {"version": 7}})
    ctx, change = _plan(root, "registry.iris.production")
    assert change.blocked == "serve.production.version: v7 of iris is not a registered version (registered: v1, v2)"
    assert change.source is not None and change.source.file == "models/iris.yaml" and change.source.line
    with pytest.raises(MlopsError) as exc:
        RegistryProvider().apply(change, ctx)
    assert exc.value.message.startswith(f"models/iris.yaml:{change.source.line}:")
    assert "Nothing was assigned" in exc.value.message
    assert not [t for t in tags(root) if "#" in t]


def test_version_number_about_to_be_registered(reg_repo: Path) -> None:
    set_model(reg_repo, serve={"production": {"version": 1}})
    pending = Change(address="model.iris", action=Action.CREATE, after={"version": 1})
    _, change = _plan(reg_repo, "registry.iris.production", pending)
    assert change.blocked is None
    assert change.reasons == ("production: nothing -> v1: will point to the new version once registered",)
    blocked_model = pending.with_(blocked="gate accuracy >= 0.95 not met by candidate (0.913)")
    _, change = _plan(reg_repo, "registry.iris.production", blocked_model)
    assert change.blocked and "v1 of iris is not a registered version (registered: none yet)" in change.blocked


def test_unknown_environment(two_versions: Path) -> None:
    """The spec loader rejects it first; the provider still refuses if handed such a project."""
    import dataclasses

    ctx = context(two_versions)
    spec = ctx.project.spec
    envs = {k: v for k, v in spec.data["environments"].items() if k != "staging"}
    ctx.project = dataclasses.replace(ctx.project, spec=dataclasses.replace(spec, data={**spec.data, "environments": envs}))
    ctx.upstream["model.iris"] = Change(address="model.iris", action=Action.NOOP)
    change = plan_one(RegistryProvider(), "registry.iris.staging", ctx)
    assert change.blocked and "there is no environment 'staging' in mlops.yaml" in change.blocked
    with pytest.raises(MlopsError, match="no environment 'staging'"):
        RegistryProvider().apply(change, ctx)


def test_removed_from_serve_is_unassigned(two_versions: Path) -> None:
    root = two_versions
    set_model(root, serve={"staging": {"version": 1}})
    assign(root, "staging")
    set_model(root, serve={"staging": {"version": 2}})
    assign(root, "staging")  # v1 and v2 both hold a staging assignment tag now
    set_model(root, serve={})
    ctx = context(root)
    assert list(RegistryProvider().existing(ctx)) == ["registry.iris.staging"]
    change = plan_one(RegistryProvider(), "registry.iris.staging", ctx)
    assert change.action is Action.DELETE
    assert change.reasons == ("staging: unassign v2 (the specs no longer serve iris in staging); the version stays registered",)
    RegistryProvider().delete(change, ctx)
    assert api.assignment(root, "iris", "staging") is None  # not even the older v1 surfaces
    assert list(RegistryProvider().existing(context(root))) == []
    assert gto_show(root)["iris"]["stage"].get("staging") is None
    assert [v.version for v in api.list_versions(root, "iris")] == [1, 2]


def test_read_changes_when_latest_moves(reg_repo: Path) -> None:
    """A saved plan that resolved "latest" goes stale once another version is registered."""
    register(reg_repo)
    before = RegistryProvider().read("registry.iris.staging", None, context(reg_repo))
    retrain_and_register(reg_repo, columns=4)
    after = RegistryProvider().read("registry.iris.staging", None, context(reg_repo))
    assert before != after
