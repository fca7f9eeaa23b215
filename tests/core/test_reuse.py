"""core/reuse.py: a kept change is offered only when nothing it was computed from can differ.

The whole suite runs with ``MLOPSCTL_PLAN_MEMO=verify``, so every plan that takes kept changes is
also computed whole and compared (tests/core/test_planmemo.py edits specs of a real applied
repository); here, each condition of the tracker on its own.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mlopsctl.core import reuse
from mlopsctl.core.context import Context
from mlopsctl.core.model import Action, Change, Resource
from mlopsctl.core.reuse import Kept, Reads, Tracker
from mlopsctl.errors import Location
from mlopsctl.specs.model import Project, SpecDoc
from mlopsctl.workspace import observe


def _project(tmp_path: Path, *names: str) -> Project:
    spec = SpecDoc(path="mlops.yaml", data={"name": "demo"})
    models = {n: SpecDoc(path=f"models/{n}.yaml", data={"name": n}) for n in names}
    return Project(root=tmp_path, spec=spec, models=models)


def _resource(model: str, value: int = 1) -> Resource:
    return Resource(kind="stage", name=f"{model}.train", desired={"n": value, "deps": ["a", "b"]},
                    depends_on=(f"dataset.{model}",), source=Location(f"models/{model}.yaml", 3, 1), model=model)


class _Memo:
    """A run memo made of every model's spec (like the stage definitions)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names


def _watch(tmp_path: Path, read: dict[str, object]) -> tuple[Tracker, dict[str, Change]]:
    """A first plan: alpha's stage looks at what ``read`` says; returns the tracker and its changes."""
    ctx = Context(root=tmp_path, project=_project(tmp_path, "alpha", "beta"))
    tracker = Tracker()
    change = Change(address="stage.alpha.train", action=Action.NOOP, model="alpha",
                    payload={"desired": _resource("alpha").desired})
    with reuse.tracking(tracker, ctx):
        with tracker.computing("stage.alpha.train", _resource("alpha")):
            for name in read.get("models", ()):  # type: ignore[attr-defined]
                ctx.project.models.get(name)
            if read.get("walk"):
                list(ctx.project.models.items())
            for address in read.get("upstream", ()):  # type: ignore[attr-defined]
                ctx.upstream.get(address)
            if read.get("memo"):
                ctx.memo(_Memo, lambda: _Memo(sorted(ctx.project.models)))
            ctx.log("alpha: a line for people")
        tracker.computed("stage.alpha.train", change)
    return tracker, {"stage.alpha.train": change}


def _kept(tracker: Tracker, changes: dict[str, Change], edited: set[str]) -> Tracker:
    """The next plan's tracker, offered the first plan's changes (through their saved form)."""
    reads = {a: Reads.from_list(r.to_list()) for a, r in tracker.reads.items()}
    made = {k: Reads.from_list(r.to_list()) for k, r in tracker.made_all().items()}
    saved = {a: Change.from_dict(c.to_dict()) for a, c in changes.items()}
    return Tracker(Kept(changes=saved, reads=reads, edited=edited, made=made))


def test_an_unrelated_edit_offers_the_kept_change_and_its_lines(tmp_path: Path) -> None:
    first, changes = _watch(tmp_path, {"models": ["alpha"]})
    assert first.reads["stage.alpha.train"].logs == ["alpha: a line for people"]
    nxt = _kept(first, changes, edited={"beta"})
    kept = nxt.reusable("stage.alpha.train", _resource("alpha"), {})
    assert kept == Change.from_dict(changes["stage.alpha.train"].to_dict())
    assert nxt.reused == ["stage.alpha.train"] and nxt.reads["stage.alpha.train"].logs == ["alpha: a line for people"]


@pytest.mark.parametrize(("read", "edited", "why"), [
    ({}, {"alpha"}, "its own model's spec moved"),
    ({"models": ["beta"]}, {"beta"}, "it looked at the edited model's spec"),
    ({"walk": True}, {"beta"}, "it looked at every model's spec"),
    ({"memo": True}, {"beta"}, "it used a run memo made of every model's spec"),
])
def test_what_an_edit_may_have_touched_is_computed_again(tmp_path: Path, read: dict[str, object],
                                                         edited: set[str], why: str) -> None:
    first, changes = _watch(tmp_path, read)
    assert _kept(first, changes, edited).reusable("stage.alpha.train", _resource("alpha"), {}) is None, why
    # The same reads with another model edited (or none of its own): offered.
    other = {"gamma"}
    if read.get("walk") or read.get("memo"):
        return  # every model's spec: any edit counts
    assert _kept(first, changes, other).reusable("stage.alpha.train", _resource("alpha"), {}) is not None


def test_another_desired_resource_is_computed_again(tmp_path: Path) -> None:
    first, changes = _watch(tmp_path, {})
    nxt = _kept(first, changes, edited={"beta"})
    assert nxt.reusable("stage.alpha.train", _resource("alpha", value=2), {}) is None
    moved = dataclasses.replace(_resource("alpha"), source=Location("models/alpha.yaml", 4, 1))
    assert nxt.reusable("stage.alpha.train", moved, {}) is None  # messages point at the line: it moved
    assert nxt.reusable("stage.alpha.train", None, {}) is None  # no longer desired: a delete, computed


def test_an_upstream_change_that_differs_is_seen(tmp_path: Path) -> None:
    first, changes = _watch(tmp_path, {"upstream": ["dataset.alpha"]})
    data = Change(address="dataset.alpha", action=Action.NOOP, model="alpha")
    changes = {**changes, "dataset.alpha": data}
    same = _kept(first, changes, edited={"beta"})
    same.computed("dataset.alpha", data)
    assert same.reusable("stage.alpha.train", _resource("alpha"), {"dataset.alpha": data}) is not None
    differs = _kept(first, changes, edited={"beta"})
    differs.computed("dataset.alpha", data.with_(action=Action.UPDATE, reasons=("new rows",)))
    assert differs.reusable("stage.alpha.train", _resource("alpha"), {"dataset.alpha": data}) is None
    gone = _kept(first, changes, edited={"beta"})  # no such change this time
    assert gone.reusable("stage.alpha.train", _resource("alpha"), {}) is None


def test_watching_ends_with_the_block(tmp_path: Path) -> None:
    ctx = Context(root=tmp_path, project=_project(tmp_path, "alpha"))
    models = ctx.project.models
    tracker = Tracker()
    with pytest.raises(RuntimeError), reuse.tracking(tracker, ctx):
        assert reuse.active() is tracker and ctx.project.models is not models
        raise RuntimeError("a plan that fails")
    assert reuse.active() is None and ctx.project.models is models and type(ctx.upstream) is dict
    with reuse.tracking(None, ctx):
        assert reuse.active() is None


def test_a_spec_read_as_a_file_counts_as_reading_that_model(tmp_path: Path) -> None:
    # A custom stage may list another model's spec among its dependencies: hashing it reads the spec.
    (tmp_path / "models").mkdir()
    spec = tmp_path / "models" / "beta.yaml"
    spec.write_text("name: beta\n")
    ctx = Context(root=tmp_path, project=_project(tmp_path, "alpha", "beta"))
    tracker = Tracker()
    with observe.recording(), reuse.tracking(tracker, ctx):
        with tracker.computing("stage.alpha.train", _resource("alpha")):
            spec.read_bytes()
        with tracker.computing("stage.gamma.train", _resource("gamma")):
            (tmp_path / "models").is_dir()
    assert tracker.reads["stage.alpha.train"].models == {"beta"}
    assert tracker.reads["stage.gamma.train"].models == set()


@pytest.mark.parametrize("kind", ["image", "deployment"])
def test_what_asks_the_engine_is_always_read_again(tmp_path: Path, kind: str) -> None:
    ctx = Context(root=tmp_path, project=_project(tmp_path, "alpha", "beta"))
    address = f"{kind}.alpha.production"
    resource = Resource(kind=kind, name="alpha.production", desired={"port": 8000}, model="alpha")
    first = Tracker()
    with reuse.tracking(first, ctx), first.computing(address, resource):
        pass
    change = Change(address=address, action=Action.NOOP, model="alpha", payload={"desired": resource.desired})
    assert _kept(first, {address: change}, edited={"beta"}).reusable(address, resource, {}) is None


def test_a_watched_dict_tells_each_key_looked_up_and_every_walk() -> None:
    seen: list[str] = []
    d = reuse._Watched({"alpha": 1, "beta": 2}, seen.append)
    assert (d["alpha"], d.get("beta"), "gamma" in d, d.get("gamma")) == (1, 2, False, None)
    assert seen == ["alpha", "beta", "gamma", "gamma"]
    seen.clear()
    assert (sorted(d), len(d), dict(d.items()), sorted(d.values())) == (["alpha", "beta"], 2, {"alpha": 1, "beta": 2}, [1, 2])
    assert seen and set(seen) == {reuse.ALL}
    seen.clear()
    d["delta"] = 4  # the plan's own writes (ctx.upstream[address] = change) tell nothing
    assert seen == []
