"""What a provider gets to see while planning and applying."""

from __future__ import annotations

import contextlib
import datetime as _dt
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mlopsctl.core import reuse

if TYPE_CHECKING:
    from mlopsctl.core.events import Event, RunLog
    from mlopsctl.core.model import Change
    from mlopsctl.specs.model import Project
    from mlopsctl.workspace.digests import DigestCache


T = TypeVar("T")


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def _nobody(event: Event) -> None:
    """The default listener of events: nobody (:mod:`mlopsctl.core.events` is imported by apply,
    which listens; a plan emits none)."""


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


@dataclass
class Context:
    root: Path
    """The repository root (where mlops.yaml is)."""
    project: Project
    force: bool = False
    """The user asked explicitly to overwrite hand edits and unmanaged files (a backup is kept)."""
    destroy: bool = False
    """Planning a destroy: every owned resource that may be removed is deleted."""
    allow_destroy_protected: bool = False
    """The user asked explicitly to delete deployments of environments marked ``protected``."""
    allow_no_models: bool = False
    """The user asked explicitly to plan with no model specs although models existed before."""
    now: str = field(default_factory=_now)
    """When this plan is computed (ISO 8601, UTC, seconds): the plan's ``created_at`` and the stamp of
    backups. Re-deriving a saved plan sets it to the saved plan's time, so the same inputs give the same plan."""
    upstream: dict[str, Change] = field(default_factory=dict)
    """Changes computed so far, by address (dependencies are always computed first)."""
    applied: set[str] = field(default_factory=set)
    """Addresses already carried out in this apply run (empty while planning): a provider re-diffed
    at apply can tell "the stage will run" from "the stage just ran"."""
    log: Callable[[str], None] = _stderr
    """Lines for people outside apply (while planning); never stdout (stdout may carry JSON).
    During apply, providers' lines become :class:`StepNote` events (see :meth:`note`)."""
    destroy_images: bool = False
    """With ``destroy``: remove the project's images too (``mlopsctl destroy --images``)."""
    events: Callable[[Event], None] = _nobody
    """Who listens to apply's events (core.events); set by the command, thread-safe."""
    run_log: RunLog | None = None
    """The apply run's log file (raw tool output and every event); None outside apply."""
    parallelism: int = 0
    """How many training stages may run at once (``apply --parallelism``); 0: one per CPU core."""
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)
    _memos: dict[type, Any] = field(default_factory=dict, repr=False)
    _read_in: dict[type, Any] = field(default_factory=dict, repr=False)
    """Run memo type -> the apply run (its :attr:`run_log`) it was read in; None while planning."""

    def memo(self, kind: type[T], make: Callable[[], T] | None = None) -> T:
        """The run's one object of type ``kind``: made on first use (``make()``, else ``kind()``).

        Per-run memos are typed objects named by their class (the registry's tags, the digest
        cache, rendered files...), never string keys. One that has a ``save()`` method persists
        it through :meth:`save_memos`, the one way caches are saved.
        """
        value = self._memos.get(kind)
        tracker = reuse.active()
        if tracker is not None:
            tracker.used(kind)
        if value is None:
            # While a plan is tracked, what a memo is made of is shared by every later user.
            with tracker.making(kind) if tracker is not None else contextlib.nullcontext():
                value = self._memos[kind] = make() if make is not None else kind()
        return value  # type: ignore[no-any-return]

    def peek(self, kind: type[T]) -> T | None:
        """The memo of type ``kind`` if this run made one, without making it."""
        value: T | None = self._memos.get(kind)
        return value

    def run_memo(self, kind: type[T], make: Callable[[], T] | None = None) -> T:
        """Like :meth:`memo`, but read again once when an apply run starts using it.

        For facts someone else may change between plan and apply (a person tagging with ``gto``
        or committing while the plan waits for confirmation; a crashed run resumed later): the
        run that acts reads them afresh once, then keeps them current itself as it writes.
        """
        run = self.run_log
        if kind in self._memos and self._read_in.get(kind) is not run:
            self._memos.pop(kind)
        self._read_in[kind] = run
        return self.memo(kind, make)

    def forget(self, kind: type) -> None:
        """Drop the memo of type ``kind`` (after a write made it stale)."""
        self._memos.pop(kind, None)

    def save_memos(self) -> None:
        """Persist every memo that can be saved (digests, DVC stat facts); errors only cost time."""
        for value in list(self._memos.values()):
            save = getattr(value, "save", None)
            if callable(save):
                save()

    @property
    def digests(self) -> DigestCache:
        """The run's one digest cache (stat-keyed; saved with the other memos)."""
        from mlopsctl.workspace.digests import DigestCache

        return self.memo(DigestCache, lambda: DigestCache(self.root))

    def plan_options(self) -> dict[str, bool]:
        """The options a plan was computed with; saved with it, so re-deriving it uses the same."""
        return {"force": self.force, "allow_destroy_protected": self.allow_destroy_protected,
                "allow_no_models": self.allow_no_models}

    @property
    def step(self) -> str | None:
        """The address of the step this thread is carrying out (None outside apply)."""
        return getattr(self._local, "step", None)

    def set_step(self, address: str | None) -> None:
        self._local.step = address

    def emit(self, event: Event) -> None:
        from mlopsctl.core.events import describe

        if self.run_log is not None:
            text = describe(event)
            if text:
                self.run_log.write(None, text)  # the text names its step
        self.events(event)

    def progress(self, phase: str, done: float | None = None, total: float | None = None, unit: str = "") -> None:
        """Where the running step is now (a phase, optionally countable: build step 3 of 9)."""
        if self.step is not None:
            from mlopsctl.core.events import StepProgress

            self.emit(StepProgress(self.step, phase, done, total, unit))

    def note(self, text: str) -> None:
        """A line for people about the running step's result; outside apply, :attr:`log`."""
        if self.step is None:
            self.log(text)
        else:
            from mlopsctl.core.events import StepNote

            self.emit(StepNote(self.step, text))

    def output(self, line: str) -> None:
        """A raw line of tool output (DVC, a build): to the run's log file only."""
        if self.run_log is not None:
            self.run_log.write(self.step, line)

    @property
    def state_dir(self) -> Path:
        return self.root / ".mlopsctl"
