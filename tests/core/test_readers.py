"""The read worker (core/readers.py): a second process reads a plan's resources from the back; the
plan takes the states it found, and is the same plan with it or without it.

On a really applied repository with more models added (not applied: their stages, datasets and
models have changes), with the worker forced on (``MLOPSCTL_READ_WORKER=on``) and off. Scenarios
that fork run in a new interpreter: a worker is only forked from a process without threads.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from mlopsctl.core import readers
from mlopsctl.workspace import forked
from tests.builders import git, in_new_interpreter, run_mlopsctl
from tests.monitoring.monitor_builders import build_applied, copy_applied

MODELS = 4


@pytest.fixture(scope="module")
def applied_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_applied(tmp_path_factory.mktemp("readers-template"))


@pytest.fixture
def applied(applied_template: Path, tmp_path: Path) -> Path:
    root = copy_applied(applied_template, tmp_path)
    text = (root / "models" / "iris.yaml").read_text()
    for n in range(2, MODELS + 1):
        (root / "models" / f"iris{n}.yaml").write_text(text.replace("name: iris\n", f"name: iris{n}\n"))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "More models")
    shutil.rmtree(root / ".mlopsctl" / "cache", ignore_errors=True)
    return root


def _alone(scenario: str, root: Path) -> None:
    in_new_interpreter("tests.core.test_readers", scenario, root, {readers.ENV: "on"})


def _plan(root: Path, how: str, *args: str) -> subprocess.CompletedProcess[str]:
    shutil.rmtree(root / ".mlopsctl" / "cache", ignore_errors=True)
    return run_mlopsctl(["plan", *args], root, env={readers.ENV: how, "MLOPSCTL_PLAN_MEMO": "off"})


def test_a_plan_with_the_worker_is_the_plan_without_it(applied: Path) -> None:
    shown, saved = {}, {}
    for how in ("off", "on", "off", "on"):
        proc = _plan(applied, how, "-o", f"plan-{how}.json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout == shown.setdefault(how, proc.stdout)
        plan = json.loads((applied / f"plan-{how}.json").read_text())
        saved[how] = [c for c in plan["changes"]]
    assert shown["on"] == shown["off"]
    assert saved["on"] == saved["off"]
    changed = {c["address"] for c in saved["on"] if c["action"] != "no-op"}
    assert {"stage.iris2.train", "model.iris2", f"stage.iris{MODELS}.train"} <= changed  # states of every kind differ
    assert "stage.iris.train" not in changed


def test_the_states_the_worker_sends_are_those_the_plan_reads(applied: Path) -> None:
    _alone("_sends_what_the_plan_reads", applied)


def _context(root: Path) -> tuple[object, list[str], dict[str, object]]:
    from mlopsctl.core import graph
    from mlopsctl.core.context import Context
    from mlopsctl.core.plan import expand
    from mlopsctl.specs.load import load_project

    ctx = Context(root=root, project=load_project(root, cache=False))
    desired = expand(ctx)
    return ctx, graph.topo_order(desired), desired  # type: ignore[return-value]


def _sends_what_the_plan_reads(root: Path) -> None:
    from mlopsctl.core.model import fingerprint, split_address
    from mlopsctl.core.provider import get_provider

    assert threading.active_count() == 1
    ctx, order, desired = _context(root)
    files = [a for a in order if a.startswith("file.")]
    assert readers.start(ctx, files, desired) is None  # type: ignore[arg-type]  # nothing it could read
    worker = readers.start(ctx, order, desired)  # type: ignore[arg-type]
    assert worker is not None
    deadline = time.monotonic() + 60
    while os.waitpid(worker.pid, os.WNOHANG) == (0, 0):  # let it read everything but the first
        assert time.monotonic() < deadline, "the worker did not end in a minute"
        time.sleep(0.05)
    alone = [a for a in order if split_address(a)[0] in ("dataset", "stage", "model")]
    assert worker.addresses == alone and len(alone) == 2 * MODELS + 1  # the models share one dataset
    taken = {}
    for address in order:
        found = worker.take(address)
        if found is not None:
            taken[address] = found
    worker.finish()
    assert set(taken) == set(alone[1:])  # all but the first, which the plan had reached at once
    for address, (actual, known, looked) in taken.items():
        assert looked is None  # nothing records this plan: no notes come with a state
        read = get_provider(split_address(address)[0]).read(address, desired[address], ctx)  # type: ignore[arg-type]
        assert actual == read and known == fingerprint(read), address


def test_a_recorded_plan_notes_what_the_worker_read(applied: Path) -> None:
    _alone("_records_what_it_read", applied)


def _records_what_it_read(root: Path) -> None:
    """Under the plan memo's recording and tracking, each state comes with what its read looked at:
    the paths and probe answers (noted in the plan's record) and the specs and run memos (its reads)."""
    from mlopsctl.core.model import split_address
    from mlopsctl.core.planmemo import _ignored
    from mlopsctl.core.provider import get_provider
    from mlopsctl.core.reuse import Tracker, tracking
    from mlopsctl.workspace import observe

    ctx, order, desired = _context(root)
    tracker = Tracker()
    with observe.recording(_ignored(root)) as rec, tracking(tracker, ctx):  # type: ignore[arg-type]
        worker = readers.start(ctx, order, desired)  # type: ignore[arg-type]
        assert worker is not None and worker.tracked and worker.recorded
        deadline = time.monotonic() + 60
        while os.waitpid(worker.pid, os.WNOHANG) == (0, 0):
            assert time.monotonic() < deadline, "the worker did not end in a minute"
            time.sleep(0.05)
        taken = {a: found for a in order if (found := worker.take(a)) is not None}
        worker.finish()
    assert rec.tainted is None  # forking it is not an outside read: its reads came back
    assert len(taken) == 2 * MODELS
    # The same reads in this process, recorded and tracked on their own.
    ctx2, _, _ = _context(root)
    again = Tracker()
    with observe.recording(_ignored(root)) as rec2, tracking(again, ctx2):  # type: ignore[arg-type]
        for kind in ("dataset", "stage", "model"):
            get_provider(kind).before_reads(ctx2)  # type: ignore[attr-defined]
        for address in taken:
            with again.computing(address, desired[address]):  # type: ignore[arg-type]
                get_provider(split_address(address)[0]).read(address, desired[address], ctx2)  # type: ignore[arg-type]
    assert rec2.tainted is None
    for table in ("stats", "lstats"):
        missing = set(getattr(rec2, table)) - set(getattr(rec, table))
        assert not missing, (table, sorted(missing)[:5])
    assert rec2.lists <= rec.lists
    assert {json.dumps(p[:3]) for p in rec2.probes} <= {json.dumps(p[:3]) for p in rec.probes}
    for address, (_, _, looked) in taken.items():
        assert looked is not None and looked.to_list() == again.reads[address].to_list(), address
    assert any(looked.models for _, _, looked in taken.values() if looked is not None)  # specs seen are noted


def test_a_developers_plan_keeps_the_same_memo_with_the_worker(applied: Path) -> None:
    from mlopsctl.registry.outputs import metrics_path

    def memo() -> tuple[object, ...]:
        (kept,) = (applied / ".mlopsctl" / "cache" / "plans").glob("*.json")
        head, body, *rows = kept.read_bytes().split(b"\n")
        record = json.loads(head)["record"]
        return (record["stat"], record["lstat"], record["list"], [p[:3] for p in record["probes"]],
                json.loads(body)["made"], [row.split(b"\t")[2] for row in rows])

    kept = {}
    for how in ("off", "on"):
        shutil.rmtree(applied / ".mlopsctl" / "cache", ignore_errors=True)
        proc = run_mlopsctl(["plan"], applied, env={readers.ENV: how, "MLOPSCTL_PLAN_MEMO": "on"})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        kept[how] = memo()
    assert kept["on"] == kept["off"]
    again = run_mlopsctl(["--debug", "plan"], applied, env={readers.ENV: "on", "MLOPSCTL_PLAN_MEMO": "on"})
    assert "plan memo: reused" in again.stderr, again.stderr
    # A file only the last model's read looks at (the worker reads from the back) appears: no reuse.
    metrics = applied / metrics_path(f"iris{MODELS}")
    assert not metrics.exists()  # added, never trained
    metrics.parent.mkdir(parents=True, exist_ok=True)
    metrics.write_text("{}")
    moved = run_mlopsctl(["--debug", "plan"], applied, env={readers.ENV: "on", "MLOPSCTL_PLAN_MEMO": "on"})
    assert moved.returncode == 0, moved.stderr
    assert "plan memo: reused" not in moved.stderr and f"{metrics} changed" in moved.stderr, moved.stderr


def test_a_killed_worker_costs_only_time(applied: Path) -> None:
    _alone("_killed", applied)


def _killed(root: Path) -> None:
    from mlopsctl.core.plan import diff_one

    ctx, order, desired = _context(root)
    worker = readers.start(ctx, order, desired)  # type: ignore[arg-type]
    assert worker is not None
    os.kill(worker.pid, signal.SIGKILL)
    got = []
    for a in order:
        actual, known, _ = readers.taken(worker, a)  # what it said before it was killed, if anything
        got.append(diff_one(ctx, a, desired.get(a), actual, known))  # type: ignore[arg-type]
    worker.finish()
    ctx2, _, _ = _context(root)
    assert got == [diff_one(ctx2, a, desired.get(a)) for a in order]  # type: ignore[arg-type]


def test_a_read_that_fails_in_the_worker_fails_the_plan_as_without_it(applied: Path) -> None:
    from mlopsctl.registry.outputs import metrics_path

    (applied / metrics_path("iris")).write_text("{not json")  # read by model.iris, the worker's ninth
    said = {}
    for how in ("off", "on"):
        proc = _plan(applied, how)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        said[how] = proc.stderr
    assert said["on"] == said["off"]
    assert "is not valid JSON" in said["on"] and "Traceback" not in said["on"]


def test_when_a_worker_is_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.delenv(readers.ENV, raising=False)
    assert not readers.wanted(readers.MIN_READS - 1)  # a small plan: forking costs what it saves
    assert readers.wanted(readers.MIN_READS)
    monkeypatch.setattr(forked, "cores", lambda: 1)
    assert not readers.wanted(10 * readers.MIN_READS)  # one core: nothing to gain
    monkeypatch.setenv(readers.ENV, "on")
    assert readers.wanted(1)
    monkeypatch.setenv(readers.ENV, "off")
    monkeypatch.setattr(forked, "cores", lambda: 2)
    assert not readers.wanted(10 * readers.MIN_READS)
