"""The model provider on real Git + DVC repositories: gates decide registration; tags are the record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlopsctl.core.model import Action
from mlopsctl.errors import MlopsError
from mlopsctl.providers.model import ModelProvider
from mlopsctl.registry import api
from tests.builders import git
from tests.registry.registry_builders import (
    context,
    gto_show,
    plan_one,
    register,
    retrain_and_register,
    set_model,
    stage,
    tags,
    track,
    train_candidate,
)

# Real DVC runs, training or Git registries in every test: left out of the fast suite.
pytestmark = pytest.mark.slow


ADDRESS = "model.iris"


def _plan(root: Path, stage_action: Action = Action.NOOP):  # type: ignore[no-untyped-def]
    ctx = context(root)
    ctx.upstream["stage.iris.train"] = stage(action=stage_action)
    return ctx, plan_one(ModelProvider(), ADDRESS, ctx)


def test_expand_depends_on_the_stage(reg_repo: Path) -> None:
    [res] = ModelProvider().expand(context(reg_repo))
    assert res.address == ADDRESS
    assert res.depends_on == ("stage.iris.train",)
    assert res.source is not None and res.source.file == "models/iris.yaml"
    assert list(ModelProvider().existing(context(reg_repo))) == []  # versions are never pruned


def test_gate_passes_registers_a_version(reg_repo: Path) -> None:
    root = reg_repo
    ctx, change = _plan(root)
    assert change.action is Action.CREATE and change.blocked is None
    assert change.reasons == ("register v1 (accuracy 0.913, f1_macro 0.9106)",)

    facts = ModelProvider().apply(change, ctx)
    assert facts is not None and facts["version"] == 1 and facts["tag"] == "iris@v1.0.0"
    head = git(root, "rev-parse", "HEAD")
    assert git(root, "rev-list", "-n", "1", "iris@v1.0.0") == head
    assert git(root, "cat-file", "-t", "iris@v1.0.0") == "tag"  # annotated: GTO ignores lightweight tags
    record = json.loads(git(root, "tag", "-l", "--format=%(contents)", "iris@v1.0.0"))
    assert record["version"] == 1
    assert record["metrics"]["accuracy"] == pytest.approx(0.9130434782608695)
    lineage = record["lineage"]
    assert lineage["data"]["path"] == "data/iris.csv" and len(lineage["data"]["sha256"]) == 64
    assert {"code_commit", "params", "python", "sklearn", "mlopsctl"} <= set(lineage)
    # The recorded md5 is DVC's: the object is in the DVC cache under that name.
    md5 = record["artifact"]["md5"]
    assert (root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).is_file()
    assert gto_show(root)["iris"]["version"] == "v1.0.0"

    # The registration did not push (the stage does, after training): the plan says the remote
    # lacks v1, and apply pushes it. Then converged: nothing to do, nothing new registered.
    ctx2, again = _plan(root)
    assert again.action is Action.UPDATE
    assert again.reasons == ((f"v1's artifact is not in DVC remote 'local' ({(root.parent / 'dvc-remote')}): "
                             "apply pushes it from the DVC cache"),)
    assert ModelProvider().apply(again, ctx2) == {"pushed": [1], "restored": []}
    assert (root.parent / "dvc-remote/files/md5" / md5[:2] / md5[2:]).is_file()
    ctx2, again = _plan(root)
    assert again.action is Action.NOOP
    assert ModelProvider().apply(change, ctx2) == {"version": 1, "tag": "iris@v1.0.0", "registered": False}
    assert tags(root) == ["iris@v1.0.0"]


def test_gate_fails_nothing_registered(reg_repo: Path) -> None:
    root = reg_repo
    set_model(root, gates={"accuracy": ">= 0.95"})
    ctx, change = _plan(root)
    assert change.action is Action.CREATE
    assert change.reasons == ("gate accuracy >= 0.95 not met by candidate (0.913)",)
    assert change.blocked and "not met by candidate (0.913)" in change.blocked
    with pytest.raises(MlopsError) as exc:
        ModelProvider().apply(change, ctx)
    assert "gate accuracy >= 0.95 not met by candidate (0.913)" in exc.value.message
    assert "models/iris.yaml" in exc.value.message and "Nothing was registered" in exc.value.message
    assert tags(root) == []


def test_failing_candidate_of_a_dummy_estimator(reg_repo: Path) -> None:
    root = reg_repo
    train_candidate(root, dummy=True)
    track(root, message="dummy")
    ctx, change = _plan(root)
    assert change.blocked and "gate accuracy >= 0.8 not met by candidate (0.3043)" in change.blocked
    with pytest.raises(MlopsError, match=r"accuracy >= 0\.8 not met"):
        ModelProvider().apply(change, ctx)
    assert api.list_versions(root, "iris") == []


def test_stage_will_run_known_after_training(reg_repo: Path) -> None:
    root = reg_repo
    _, change = _plan(root, Action.UPDATE)
    assert change.action is Action.CREATE and change.blocked is None
    assert change.reasons == ("registers v1 if the candidate passes its gates (known after training)",)
    register(root)
    _, change = _plan(root, Action.UPDATE)
    assert change.reasons[0] == "registers v2 if the candidate passes its gates (known after training)"
    # v1 sits on HEAD, but the retraining's dvc.lock goes into a record commit of its own: no conflict.
    assert change.blocked is None


def test_new_candidate_on_the_same_commit_is_refused(reg_repo: Path) -> None:
    root = reg_repo
    register(root)
    train_candidate(root, columns=4)  # retrained but not committed
    ctx, change = _plan(root)
    assert change.blocked and "commit the change that retrains iris" in change.blocked
    with pytest.raises(MlopsError, match="GTO keeps one version of a model per commit"):
        ModelProvider().apply(change, ctx)
    assert tags(root) == ["iris@v1.0.0"]
    track(root, message="retrain")
    assert register(root)["version"] == 2


def test_no_worse_than_production(reg_repo: Path) -> None:
    from tests.registry.registry_builders import assign

    root = reg_repo
    train_candidate(root, columns=4)  # accuracy 1.0
    track(root, message="strong")
    register(root)
    set_model(root, serve={"production": {"version": 1}},
              gates={"accuracy": ">= 0.8", "no_worse_than": {"environment": "production", "metric": "accuracy", "by": 0.02}})
    assign(root, "production")
    train_candidate(root, columns=2)  # accuracy 0.913: more than 0.02 below production
    track(root, message="weaker")
    ctx, change = _plan(root)
    assert change.blocked is not None
    assert "no_worse_than accuracy" in change.blocked and "production 1" in change.blocked
    with pytest.raises(MlopsError, match="needs >= 0.98"):
        ModelProvider().apply(change, ctx)
    assert [v.version for v in api.list_versions(root, "iris")] == [1]


def test_missing_outputs(reg_repo: Path) -> None:
    root = reg_repo
    (root / "reports/iris/metrics.json").unlink()
    ctx, change = _plan(root)
    assert change.action is Action.NOOP  # nothing to register until the stage produces a candidate
    with pytest.raises(MlopsError, match="no training output to register"):
        ModelProvider().apply(change.with_(action=Action.CREATE), ctx)


def test_versions_are_numbered_on(reg_repo: Path) -> None:
    root = reg_repo
    assert register(root)["version"] == 1
    assert retrain_and_register(root, columns=4)["version"] == 2
    assert [v.version for v in api.list_versions(root, "iris")] == [1, 2]


def test_lineage_completed_without_lineage_json(reg_repo: Path) -> None:
    """A custom train command may write no lineage.json; the version still records what is sure."""
    root = reg_repo
    (root / "artifacts/iris/lineage.json").unlink()
    register(root)
    [mv] = api.list_versions(root, "iris")
    lin = mv.lineage
    assert lin["data"]["path"] == "data/iris.csv" and len(lin["data"]["sha256"]) == 64
    assert lin["code_commit"] == git(root, "rev-parse", "HEAD")
    assert lin["estimator"] == "sklearn.ensemble.RandomForestClassifier"
    assert lin["params"] == {"n_estimators": 20, "random_state": 0}
    assert lin["sklearn"] and lin["python"] and lin["mlopsctl"]


def test_the_plot_summary_is_read_for_a_candidate_to_register_only(reg_repo: Path) -> None:
    from mlopsctl.training.plotfiles import write_plots

    root = reg_repo
    write_plots(root, "iris", "classification", ["a", "b"], ["a", "b"], scores=[[0.9, 0.1], [0.2, 0.8]],
                classes=["a", "b"], pos_label="b")
    ctx, change = _plan(root)
    assert change.action is Action.CREATE and change.after["evaluation"]["confusion"]["labels"] == ["a", "b"]
    ModelProvider().apply(change, ctx)
    # Registered: the plan shows no plot summary, so it does not read the plot files (a thousand
    # models' plots were a tenth of a plan on a fresh clone).
    for name in ("confusion.csv", "roc.csv", "precision_recall.csv"):
        (root / "reports" / "iris" / "plots" / name).unlink()
    ctx = context(root)
    ctx.upstream["stage.iris.train"] = stage()
    actual = ModelProvider().read(ADDRESS, {r.address: r for r in ModelProvider().expand(ctx)}[ADDRESS], ctx)
    assert actual is not None and actual["registered_as"] == 1 and "evaluation" not in actual["candidate"]
