"""What apply reports while it runs: typed events, and the run's log file.

The executor and the providers emit events through ``Context.events`` (a callable); they never
print. The command picks who listens: a live terminal display, plain log lines, or nobody. Events
may come from several threads at once (steps running in parallel), so a listener must be
thread-safe; every event names the step it belongs to.

Raw tool output (DVC, image builds) is not an event: it goes to the run's log file
(:class:`RunLog`, ``.mlopsctl/logs/<command>-<id>.log``), which errors name, with every event
written there too so the file reads as the whole story.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Union

KEEP_LOGS = 20
"""Older run logs than the newest this many are removed when a run starts."""


@dataclass(frozen=True)
class ApplyStarted:
    total: int
    """Steps to carry out (changes that are not no-ops)."""
    estimates: dict[str, float]
    """Seconds each step took the last time it succeeded, by address (only the known ones)."""
    log_path: str | None = None
    """The run's log file, relative to the repository root."""


@dataclass(frozen=True)
class StepStarted:
    address: str
    action: str
    verb: str
    """"creating", "updating", ..."""
    estimate: float | None = None


@dataclass(frozen=True)
class StepProgress:
    """Where a running step is: a phase (and, when countable, how far through it)."""

    address: str
    phase: str
    done: float | None = None
    total: float | None = None
    unit: str = ""
    """What done/total count: "steps", "bytes", ... (empty: no count)."""


@dataclass(frozen=True)
class StepNote:
    """A line for people about a step's result ("iris: registered v3 (accuracy 0.97)")."""

    address: str | None
    text: str


@dataclass(frozen=True)
class StepFinished:
    address: str
    action: str
    status: str
    """ok | failed | unchanged (found up to date when re-read) | skipped (a dependency failed)"""
    verb: str
    """"created", "updated", ...; for failed/skipped: the reason in a few words."""
    seconds: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class ApplyFinished:
    ok: bool
    summary: str
    """"Apply complete: 4 changed." / "Apply failed: ..." (the outcome line)."""
    seconds: float
    log_path: str | None = None


Event = Union[ApplyStarted, StepStarted, StepProgress, StepNote, StepFinished, ApplyFinished]  # noqa: UP007


class RunLog:
    """One run's log file: every event and every line of raw tool output, time-stamped and
    prefixed with its step's address; thread-safe, flushed per line so it is readable while
    the run goes on and after a crash."""

    def __init__(self, state_dir: Path, name: str) -> None:
        folder = state_dir / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        _prune(folder)
        self.path = folder / f"{name}.log"
        self._file = self.path.open("a", encoding="utf-8", errors="replace", buffering=1)
        self._lock = threading.Lock()

    def write(self, address: str | None, line: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self._lock:
            if not self._file.closed:
                self._file.write(f"{stamp} [{address}] {line.rstrip()}\n" if address else f"{stamp} {line.rstrip()}\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()


def _prune(folder: Path) -> None:
    try:
        logs = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for old in logs[: max(0, len(logs) - KEEP_LOGS + 1)]:
        try:
            os.unlink(old)
        except OSError:
            pass


def describe(event: Event) -> str | None:
    """The event as one plain line (the log file's wording, and the plain renderer's)."""
    if isinstance(event, ApplyStarted):
        known = sum(event.estimates.values())
        took = f" (the last runs of these steps took about {fmt_seconds(known)})" if event.estimates else ""
        return f"Applying {event.total} change{'s' if event.total != 1 else ''}{took}."
    if isinstance(event, StepStarted):
        return f"{event.address}: {event.verb}..."
    if isinstance(event, StepProgress):
        count = f" ({event.done:g}/{event.total:g})" if event.total and event.unit != "bytes" else ""
        return f"{event.address}: {event.phase}{count}"
    if isinstance(event, StepNote):
        return event.text
    if isinstance(event, StepFinished):
        if event.status == "ok":
            return f"{event.address}: {event.verb} ({event.seconds:.1f}s)"
        if event.status == "failed":
            return f"{event.address}: failed after {event.seconds:.1f}s"
        if event.status == "skipped":
            return f"{event.address}: not attempted ({event.verb})"
        return f"{event.address}: already up to date"
    if isinstance(event, ApplyFinished):
        return event.summary
    return None


def fmt_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{s:02d}s"
    hours, m = divmod(minutes, 60)
    return f"{hours}h{m:02d}m"
