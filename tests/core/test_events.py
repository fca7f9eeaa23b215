"""Apply reports typed events (never prints), times steps from the recorded durations, and
keeps raw output in a run log that a failure names."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.core import events as ev
from mlopsctl.core.apply import execute
from mlopsctl.core.context import Context
from mlopsctl.core.plan import compute_plan
from mlopsctl.core.state import Journal
from mlopsctl.errors import ApplyError
from tests.core.notes import make_project


def _ctx(root: Path, seen: list[ev.Event]) -> Context:
    return Context(root=root, project=make_project(root), log=lambda m: None, events=seen.append)


def test_events_in_order_with_phases_and_estimates_from_the_last_run(tmp_path: Path, notes_only,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    notes_only({"a": {"text": "A"}, "b": {"text": "B", "deps": ["a"]}})
    seen: list[ev.Event] = []
    ctx = _ctx(tmp_path, seen)
    execute(ctx, compute_plan(ctx), Journal(ctx.state_dir))
    kinds = [(type(e).__name__, getattr(e, "address", None)) for e in seen]
    assert kinds == [
        ("ApplyStarted", None),
        ("StepStarted", "note.a"), ("StepProgress", "note.a"), ("StepFinished", "note.a"),
        ("StepStarted", "note.b"), ("StepProgress", "note.b"), ("StepFinished", "note.b"),
        ("ApplyFinished", None),
    ]
    started = seen[0]
    assert isinstance(started, ev.ApplyStarted) and started.total == 2 and started.estimates == {}
    assert started.log_path and started.log_path.startswith(".mlopsctl/logs/apply-")
    assert seen[2] == ev.StepProgress("note.a", "writing notes/a.txt")
    finished = seen[-1]
    assert isinstance(finished, ev.ApplyFinished) and finished.ok and finished.summary == "Apply complete: 2 changed."
    assert capsys.readouterr() == ("", "")  # core never prints

    log = (tmp_path / started.log_path).read_text()
    assert "note.a: creating..." in log and "[note.a] raw output of a" in log and "Apply complete" in log

    notes_only({"a": {"text": "A2"}, "b": {"text": "B", "deps": ["a"]}})
    seen.clear()
    execute(ctx, compute_plan(ctx), Journal(ctx.state_dir))
    again = seen[0]
    assert isinstance(again, ev.ApplyStarted) and set(again.estimates) == {"note.a"}  # timed by the last run
    step = next(e for e in seen if isinstance(e, ev.StepStarted))
    assert step.estimate == again.estimates["note.a"]


def test_a_failure_is_an_event_and_the_error_names_the_log(tmp_path: Path, notes_only) -> None:
    notes_only({"a": {"text": "A", "fail": True}, "b": {"text": "B", "deps": ["a"]}, "c": {"text": "C"}})
    seen: list[ev.Event] = []
    ctx = _ctx(tmp_path, seen)
    with pytest.raises(ApplyError) as e:
        execute(ctx, compute_plan(ctx), Journal(ctx.state_dir))
    finished = {e.address: e for e in seen if isinstance(e, ev.StepFinished)}
    assert finished["note.a"].status == "failed" and finished["note.a"].error == "a refuses to be written"
    assert finished["note.b"].status == "skipped" and finished["note.c"].status == "ok"
    outcome = seen[-1]
    assert isinstance(outcome, ev.ApplyFinished) and not outcome.ok
    assert outcome.summary == "Apply failed: 1 changed, 1 failed, 1 not attempted."
    assert f"The full output is in {outcome.log_path}." in e.value.message
    log = (tmp_path / str(outcome.log_path)).read_text()
    assert "[note.a] a: the tool said why, at length" in log and "[note.a] a refuses to be written" in log


def test_old_run_logs_are_pruned(tmp_path: Path) -> None:
    for i in range(ev.KEEP_LOGS + 5):
        ev.RunLog(tmp_path, f"apply-{i:03d}").close()
    assert len(list((tmp_path / "logs").glob("*.log"))) == ev.KEEP_LOGS


def test_plain_descriptions() -> None:
    assert ev.describe(ev.StepProgress("image.iris", "build v2: RUN pip install", 3, 9, "steps")) == \
        "image.iris: build v2: RUN pip install (3/9)"
    assert ev.describe(ev.StepFinished("stage.iris.train", "update", "ok", "updated", 62.04)) == \
        "stage.iris.train: updated (62.0s)"
    assert ev.describe(ev.ApplyStarted(3, {"a": 50.0, "b": 15.0})) == \
        "Applying 3 changes (the last runs of these steps took about 1m05s)."
    assert ev.fmt_seconds(3725) == "1h02m"
