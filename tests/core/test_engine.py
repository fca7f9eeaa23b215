"""The plan/apply engine over a real provider: order, targets, refresh, journal, staleness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlopsctl.core import planfile
from mlopsctl.core.apply import execute
from mlopsctl.core.context import Context
from mlopsctl.core.model import Action, Plan
from mlopsctl.core.plan import check_fresh, compute_plan
from mlopsctl.core.state import Journal, last_steps, read_history
from mlopsctl.errors import ApplyError, MlopsError, StalePlanError
from tests.core.notes import make_project


def ctx_for(root: Path) -> Context:
    return Context(root=root, project=make_project(root), log=lambda m: None)


def actions(plan: Plan) -> dict[str, str]:
    return {c.address: c.action.value for c in plan.changes}


def test_plan_orders_dependencies_first_and_apply_converges(tmp_path: Path, notes_only) -> None:
    provider = notes_only({"c": {"text": "C", "deps": ["b"]}, "b": {"text": "B", "deps": ["a"]}, "a": {"text": "A"}})
    ctx = ctx_for(tmp_path)
    plan = compute_plan(ctx)
    assert [c.address for c in plan.changes] == ["note.a", "note.b", "note.c"]
    assert plan.summary() == "Plan: 3 to add, 0 to change, 0 to destroy."
    assert plan.get("note.c").depends_on == ("note.b",)
    execute(ctx, plan, Journal(ctx.state_dir))
    assert provider.applied == ["note.a", "note.b", "note.c"]
    again = compute_plan(ctx_for(tmp_path))
    assert not again.has_changes and again.summary() == "No changes."


def test_update_and_delete_with_reasons(tmp_path: Path, notes_only) -> None:
    notes_only({"a": {"text": "A"}, "gone": {"text": "G"}})
    execute(ctx_for(tmp_path), compute_plan(ctx_for(tmp_path)), Journal(tmp_path / ".mlopsctl"))
    notes_only({"a": {"text": "A2"}})
    plan = compute_plan(ctx_for(tmp_path))
    assert actions(plan) == {"note.a": "update", "note.gone": "delete"}
    assert plan.get("note.a").reasons == ("text 'A' -> 'A2'",)
    assert plan.counts() == {"add": 0, "change": 1, "destroy": 1}


def test_target_pulls_in_dependencies_and_exclude_drops_dependents(tmp_path: Path, notes_only) -> None:
    notes_only({"a": {"text": "A"}, "b": {"text": "B", "deps": ["a"]}, "x": {"text": "X"}})
    plan = compute_plan(ctx_for(tmp_path), targets=["note.b"])
    assert [c.address for c in plan.changes] == ["note.a", "note.b"]
    plan = compute_plan(ctx_for(tmp_path), excludes=["note.a"])
    assert [c.address for c in plan.changes] == ["note.x"]
    plan = compute_plan(ctx_for(tmp_path), targets=["note.*"])
    assert len(plan.changes) == 3


def test_unknown_target_is_an_error_with_a_suggestion(tmp_path: Path, notes_only) -> None:
    notes_only({"alpha": {"text": "A"}})
    with pytest.raises(MlopsError, match="did you mean 'note.alpha'"):
        compute_plan(ctx_for(tmp_path), targets=["note.alpah"])


def test_cycle_is_reported(tmp_path: Path, notes_only) -> None:
    notes_only({"a": {"text": "A", "deps": ["b"]}, "b": {"text": "B", "deps": ["a"]}})
    with pytest.raises(MlopsError, match="cycle among: note.a, note.b"):
        compute_plan(ctx_for(tmp_path))


def test_dependents_are_refreshed_with_facts_known_after_apply(tmp_path: Path, notes_only) -> None:
    notes_only({"a": {"text": "A"}, "b": {"text": "B", "deps": ["a"], "upstream": "a"}})
    plan = compute_plan(ctx_for(tmp_path))
    assert plan.get("note.b").after == {"text": "B:?"}  # a does not exist yet
    execute(ctx_for(tmp_path), plan, Journal(tmp_path / ".mlopsctl"))
    assert (tmp_path / "notes" / "b.txt").read_text() == "B:A"


def test_failure_skips_dependents_runs_the_rest_and_records_everything(tmp_path: Path, notes_only) -> None:
    notes_only({"a": {"text": "A", "fail": True}, "b": {"text": "B", "deps": ["a"]}, "c": {"text": "C"}})
    ctx = ctx_for(tmp_path)
    with pytest.raises(ApplyError) as e:
        execute(ctx, compute_plan(ctx), Journal(ctx.state_dir))
    assert "note.a: a refuses to be written" in e.value.message
    assert "note.b: not attempted (depends on note.a" in e.value.message
    assert (tmp_path / "notes" / "c.txt").exists()
    steps = [r for r in read_history(ctx.state_dir) if r["event"] == "step"]
    assert {(r["address"], r["status"]) for r in steps} == {("note.a", "failed"), ("note.c", "ok")}
    assert set(last_steps(ctx.state_dir)) == {"note.c"}


def test_torn_history_line_is_skipped(tmp_path: Path, notes_only) -> None:
    notes_only({"a": {"text": "A"}})
    ctx = ctx_for(tmp_path)
    execute(ctx, compute_plan(ctx), Journal(ctx.state_dir))
    with (ctx.state_dir / "history.jsonl").open("a") as f:
        f.write('{"event": "step", "addr')
    assert set(last_steps(ctx.state_dir)) == {"note.a"}


def test_saved_plan_round_trips_and_goes_stale(tmp_path: Path, notes_only) -> None:
    notes_only({"a": {"text": "A"}, "b": {"text": "B"}})
    ctx = ctx_for(tmp_path)
    plan = compute_plan(ctx)
    out = tmp_path / "p.json"
    planfile.save(plan, out)
    loaded = planfile.load(out)
    assert loaded == plan
    check_fresh(ctx_for(tmp_path), loaded)  # nothing moved
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("by hand")
    with pytest.raises(StalePlanError, match=r"note.a.action: .create. in the saved plan, .update. now"):
        check_fresh(ctx_for(tmp_path), loaded)


def test_saved_plan_stale_when_a_spec_changes(tmp_path: Path, notes_only) -> None:
    notes_only({"a": {"text": "A"}})
    plan = compute_plan(ctx_for(tmp_path))
    ctx = ctx_for(tmp_path)
    ctx.project.spec_digests  # noqa: B018
    moved = plan.pins | {"specs": {"mlops.yaml": "other"}}
    with pytest.raises(StalePlanError, match="mlops.yaml changed"):
        check_fresh(ctx, Plan(changes=plan.changes, pins=moved))


def test_destroy_plans_a_delete_for_everything_owned(tmp_path: Path, notes_only) -> None:
    notes_only({"a": {"text": "A"}, "b": {"text": "B", "deps": ["a"]}})
    ctx = ctx_for(tmp_path)
    execute(ctx, compute_plan(ctx), Journal(ctx.state_dir))
    plan = compute_plan(ctx_for(tmp_path), destroy=True)
    assert set(actions(plan).values()) == {"delete"} and len(plan.changes) == 2
    execute(ctx_for(tmp_path), plan, Journal(ctx.state_dir))
    assert not list((tmp_path / "notes").glob("*.txt"))


def test_planfile_rejects_foreign_files(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(MlopsError, match="not a plan file"):
        planfile.load(bad)
    bad.write_text("{broken")
    with pytest.raises(MlopsError, match="not a plan file"):
        planfile.load(bad)


def test_action_terraform_spelling() -> None:
    assert Action.REPLACE.terraform_actions == ["delete", "create"]
    assert Action.NOOP.terraform_actions == ["no-op"]
