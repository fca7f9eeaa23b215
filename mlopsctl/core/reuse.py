"""Reuse the changes a model spec edit cannot have touched (the plan memo's partial reuse).

When the kept plan memo (:mod:`mlopsctl.core.planmemo`) misses only because model specs were
edited — every other file it read stats the same, every probe answers the same but for the
edited specs' lines in ``git status`` — the plan is computed again from the specs (load, expand,
existing: the desired side), but a resource's change is taken from the kept plan when nothing it
was computed from can differ:

- its desired resource (desired state, dependencies, source line, model) is the same;
- it belongs to no edited model, and while it was read and diffed it looked at no edited model's
  spec (``ctx.project.models``, watched, or the spec file itself) nor at all of them (a loop over
  the models, ``git status``: :func:`saw_every_spec`);
- every change it looked at in ``ctx.upstream`` (watched) is the same as then;
- no run memo (``ctx.memo``) it used was made from an edited model's spec, or from all of them,
  nor from ``ctx.upstream`` (a memo made while one change was computed serves every later one);
- it is not an image or a deployment: those ask the Docker engine, and a change that needs the
  engine notes in the run whether one answered, which the plan's warnings then say.

Files it read are not compared one by one: none but the edited specs moved. Lines a reused change
said to people while it was planned are said again. What was looked at is recorded for every
computed change, so the next plan can reuse it too. ``MLOPSCTL_PLAN_MEMO=verify`` computes the
whole plan as well and fails on any difference.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlopsctl.workspace import observe

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.core.model import Change, Resource

ALL = "*"
"""A read of every model's spec (a loop over ``ctx.project.models``)."""
NEVER_TAKEN = frozenset({"image", "deployment"})
"""Kinds always read and diffed again (see the module's docstring)."""

_active: Tracker | None = None


@dataclass
class Reads:
    """What computing one change looked at besides files (see the module's docstring)."""

    models: set[str] = field(default_factory=set)
    upstream: set[str] = field(default_factory=set)
    memos: set[str] = field(default_factory=set)
    """Run memos used (their class's qualified name)."""
    logs: list[str] = field(default_factory=list)
    desired: str = ""
    """The desired resource's digest (:func:`canonical`; "" for none)."""

    def to_list(self) -> list[Any]:
        return [sorted(self.models), sorted(self.upstream), sorted(self.memos), self.logs, self.desired]

    @classmethod
    def from_list(cls, raw: list[Any]) -> Reads:
        models, upstream, memos, logs, desired = raw
        return cls(set(map(str, models)), set(map(str, upstream)), set(map(str, memos)), [str(x) for x in logs],
                   str(desired))

    def touches(self, edited: set[str]) -> bool:
        """Whether what was looked at may differ now that ``edited`` models' specs moved."""
        return bool(self.upstream) or ALL in self.models or bool(self.models & edited)


def canonical(resource: Resource | None) -> str:
    """A desired resource's digest: equal only when the resource is.

    Made of ``repr``, which is faithful for the plain data a desired state holds (it tells 1 from
    True and 1.0, a list from a tuple). Both digests compared are made the same way from a freshly
    expanded resource, so equal resources give equal digests; when they may not (a set's order,
    an object shown by its address), the change is only computed again, never wrongly taken."""
    if resource is None:
        return ""
    text = repr((resource.desired, resource.depends_on, resource.model, resource.source))
    return hashlib.blake2b(text.encode("utf-8", "backslashreplace"), digest_size=16).hexdigest()


def _change_json(change: Change | None) -> str:
    if change is None:
        return ""
    return json.dumps(change.to_dict(payload=True), sort_keys=True, default=str, separators=(",", ":"))


@dataclass
class Kept:
    """What the kept plan offers to reuse: its changes and what each looked at."""

    changes: dict[str, Change]
    reads: dict[str, Reads]
    edited: set[str]
    """The models whose spec moved."""
    made: dict[str, Reads]
    """Run memo -> what the kept plan's one was made from."""
    texts: dict[str, bytes] = field(default_factory=dict)
    """Address -> the kept line of its change (its JSON texts: the change, its states, its reads): a
    change taken again is kept again as this very line (:meth:`mlopsctl.core.planmemo.Memo.keep`),
    not encoded anew."""


class Tracker:
    """Watches one plan's computation: what each change looked at, and what each run memo was made
    of. With ``kept``, :meth:`reusable` offers kept changes (the conditions of the module's docstring).
    """

    def __init__(self, kept: Kept | None = None) -> None:
        self.kept = kept
        self.reads: dict[str, Reads] = {}
        self.made: dict[str, Reads] = {}
        """Run memo -> what it was made of (models, upstream changes, other memos), wherever made."""
        self.reused: list[str] = []
        self._current: Reads | None = None
        self._making: list[Reads] = []  # the run memos being made, innermost last
        self._differs: set[str] = set()

    # ------------------------------------------------------------------ watching
    def _frames(self) -> list[Reads]:
        """Who is looking now: the run memos being made, else the change being computed (else no one)."""
        return self._making or ([self._current] if self._current is not None else [])

    def saw_model(self, name: str) -> None:
        for frame in self._frames():
            frame.models.add(name)

    def saw_upstream(self, address: str) -> None:
        for frame in self._frames():
            frame.upstream.add(address)

    def used(self, kind: type) -> None:
        """A run memo was asked for (made or not)."""
        name = f"{kind.__module__}.{kind.__qualname__}"
        if self._making:
            made = self.made.get(name)
            for frame in self._making:  # a memo made of another memo is made of what that one is
                frame.memos.add(name)
                if made is not None and made is not frame:
                    frame.models |= made.models
                    frame.upstream |= made.upstream
        elif self._current is not None:
            self._current.memos.add(name)

    @contextmanager
    def making(self, kind: type) -> Iterator[None]:
        """The run memo ``kind`` is being made: what it looks at is shared by whoever uses it later."""
        frame = Reads()
        self.made[f"{kind.__module__}.{kind.__qualname__}"] = frame
        self._making.append(frame)
        try:
            yield
        finally:
            self._making.pop()

    @contextmanager
    def computing(self, address: str, resource: Resource | None, found: Reads | None = None) -> Iterator[Reads]:
        """Note what computing ``address``'s change looks at; ``found``: what a read worker's read of
        it looked at (:mod:`mlopsctl.core.readers`), which the change looked at too."""
        reads = self.reads[address] = found if found is not None else Reads(desired=canonical(resource))
        self._current = reads
        try:
            yield reads
        finally:
            self._current = None

    def log(self, say: Callable[[str], None]) -> Callable[[str], None]:
        """``say``, also noting each line under the change being computed."""

        def both(line: str) -> None:
            if self._current is not None:
                self._current.logs.append(line)
            say(line)

        return both

    # ------------------------------------------------------------------ reusing
    def reusable(self, address: str, resource: Resource | None, upstream: dict[str, Change]) -> Change | None:
        """The kept change of ``address`` when nothing it was computed from can differ, else None."""
        k = self.kept
        if k is None or resource is None:
            return None
        old, reads = k.changes.get(address), k.reads.get(address)
        if old is None or reads is None or (old.model is not None and old.model in k.edited):
            return None
        if address.partition(".")[0] in NEVER_TAKEN:
            return None
        if ALL in reads.models or reads.models & k.edited or reads.upstream & self._differs:
            return None
        for name in reads.memos:
            made = k.made.get(name)
            if made is None or made.touches(k.edited):
                return None
        for dep in reads.upstream:  # computed before this one (dependencies come first), or absent in both
            if (dep in upstream) != (dep in k.changes):
                return None
        if canonical(resource) != reads.desired:
            return None
        self.reads[address] = reads
        self.reused.append(address)
        return old

    def computed(self, address: str, change: Change) -> None:
        """A change computed anew: dependents that looked at it are reused only if it is as kept."""
        k = self.kept
        if k is not None and _change_json(change) != _change_json(k.changes.get(address)):
            self._differs.add(address)

    def made_all(self) -> dict[str, Reads]:
        """What every run memo was made of: this plan's, and the kept plan's it did not make again
        (its reused changes may have used them)."""
        out = dict(self.kept.made) if self.kept is not None else {}
        out.update(self.made)
        return out


def active() -> Tracker | None:
    return _active


def saw_every_spec() -> None:
    """What is being computed looked at every model's spec at once (``git status``, which lists
    each edited one): any spec edit may change it, so it is never taken from a kept plan after one."""
    if _active is not None:
        _active.saw_model(ALL)


@contextmanager
def tracking(tracker: Tracker | None, ctx: Context) -> Iterator[None]:
    """Watch ``ctx.project.models`` and ``ctx.upstream`` for ``tracker`` while the block runs."""
    global _active
    if tracker is None:
        yield
        return
    project = ctx.project
    models, upstream, log = project.models, ctx.upstream, ctx.log
    # The project is frozen: its dict of models is swapped for a watched copy for this block only.
    object.__setattr__(project, "models", _Watched(models, tracker.saw_model))
    ctx.upstream = _Watched(upstream, tracker.saw_upstream)
    ctx.log = tracker.log(log)
    # A spec file read as a file (a stage's dependency, say) is a read of that model's spec too.
    files = {os.path.join(str(ctx.root), doc.path): name for name, doc in models.items()}

    def spy(path: str) -> None:
        name = files.get(path)
        if name is not None:
            tracker.saw_model(name)

    _active = tracker
    try:
        with observe.spying(spy, os.path.commonpath(list(files)) if files else "\0"):
            yield
    finally:
        _active = None
        object.__setattr__(project, "models", models)
        ctx.upstream, ctx.log = dict(ctx.upstream), log


def _telling(name: str, whole: bool) -> Any:
    """``dict.<name>``, first telling what it looks at: one key (the first argument), or all."""
    method = getattr(dict, name)

    def told(self: _Watched, *args: Any) -> Any:
        self._saw(ALL if whole else args[0])
        return method(self, *args)

    told.__name__ = name
    return told


class _Watched(dict):  # type: ignore[type-arg]
    """A dict that tells ``saw(key)`` of every key looked up, and ``saw(ALL)`` of every walk."""

    def __init__(self, data: dict[Any, Any], saw: Callable[[str], None]) -> None:
        super().__init__(data)
        self._saw = saw

    __hash__ = None  # type: ignore[assignment]

    def copy(self) -> dict[Any, Any]:
        self._saw(ALL)
        return dict(super().items())


for _name in ("__getitem__", "get", "__contains__", "setdefault", "pop"):
    setattr(_Watched, _name, _telling(_name, whole=False))
for _name in ("__iter__", "keys", "values", "items", "__len__", "__eq__"):
    setattr(_Watched, _name, _telling(_name, whole=True))
