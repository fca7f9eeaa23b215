"""Pushing trained stages' outputs and run records to the default DVC remote, in batches.

What ``dvc push --run-cache STAGE`` sends for one stage: the objects of its outputs (a directory's
files and listing; the metrics and plots kept in Git too, so a fresh runner can restore the run)
and its run-cache record (``runs/<key[:2]>/<key>/<value>`` at the remote's top). A local remote (a
folder) has the cache's own layout, so these are copied there directly. Other remotes get batched
transfers through DVC's own object transfer: a stage asks for its outputs to reach the remote and
waits; the first one to ask while no push runs leads: it waits until training goes quiet or
``interval`` seconds have passed since the last push began, then sends everything asked for
meanwhile in one transfer. Each caller gets the outcome of the push that carried its stage.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mlopsctl.errors import MlopsError
from mlopsctl.pipeline.facts import cache_dir, object_path
from mlopsctl.pipeline.record import copy_object
from mlopsctl.pipeline.remote import transfer


@dataclass
class Outgoing:
    """What one stage sends: object names and its run record (a path under the cache)."""

    objects: list[str] = field(default_factory=list)
    runs: list[Path] = field(default_factory=list)


def copy_to_local_remote(root: Path, remote: Path, out: Outgoing) -> int:
    """Copy ``out`` from the DVC cache to the local remote folder ``remote``, skipping what is
    there already; returns how many files were copied."""
    store = cache_dir(root)
    copied = 0
    for name in out.objects:
        dest = object_path(remote, name)
        if not dest.exists():
            copy_object(object_path(store, name), dest)
            copied += 1
    for run in out.runs:
        dest = remote / run.relative_to(store)
        if not dest.exists():
            copy_object(run, dest)
            copied += 1
    return copied


class BatchPush:
    def __init__(self, root: Path, *, quiet: Callable[[], bool], interval: float = 3.0,
                 log: Callable[[str], None] | None = None) -> None:
        self.root = root
        self.quiet = quiet
        self.interval = interval
        self.log = log
        self.pushes = 0
        self._cond = threading.Condition()
        self._pending: dict[str, Outgoing] = {}
        self._outcome: dict[str, str | None] = {}
        self._running = False
        self._last = time.monotonic()  # the first push too waits for a batch (or for quiet)
        self._stopped = False

    def push(self, stage: str, out: Outgoing) -> None:
        """Block until ``out`` is on the remote; MlopsError saying why not."""
        with self._cond:
            self._pending[stage] = out
            while stage not in self._outcome and self._running:
                self._cond.wait()
            if stage in self._outcome:
                self._raise(self._outcome.pop(stage))
                return
            self._running = True
        batch: dict[str, Outgoing] = {stage: out}
        error: str | None = "push interrupted"
        try:
            deadline = self._last + self.interval
            while time.monotonic() < deadline and not self.quiet() and not self._stopped:
                time.sleep(0.05)
            with self._cond:
                batch, self._pending = self._pending, {}
            self._last = time.monotonic()
            error = self._run(batch)
        finally:
            with self._cond:
                for name in batch:
                    self._outcome[name] = error
                self._running = False
                self._cond.notify_all()
        with self._cond:
            self._raise(self._outcome.pop(stage))

    @staticmethod
    def _raise(error: str | None) -> None:
        if error:
            raise MlopsError(error)

    def _run(self, batch: dict[str, Outgoing]) -> str | None:
        if self._stopped:
            return "not pushed: apply is stopping"
        self.pushes += 1
        started = time.monotonic()
        together = Outgoing([o for out in batch.values() for o in out.objects],
                            [r for out in batch.values() for r in out.runs])
        try:
            transfer(self.root, together.objects, "push", runs=together.runs)
        except MlopsError as e:
            return f"pushing the outputs of {', '.join(batch)} failed: {e.message}"
        if self.log:
            self.log(f"pushed the outputs of {len(batch)} stage(s) in {time.monotonic() - started:.1f}s")
        return None

    def stop(self) -> None:
        """Ctrl-C: no further pushes."""
        self._stopped = True
