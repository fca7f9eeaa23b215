"""Apply's progress for people: one live display in a terminal, plain lines everywhere else.

Both listen to the typed events of ``core.events``; neither changes what apply does. The live
display (rich) keeps, at the bottom of the terminal, one line per running step (its phase, how
far through a countable phase such as a build's steps, its elapsed time against the last run's)
and the overall line (steps done of total, elapsed, an estimate of what is left from the
durations the state recorded). Finished steps scroll above it with their result and time.
Several steps may run at once; events may arrive from several threads.

The plain log writes each event once, as one line, with no heartbeats and no escape codes: for
CI logs, pipes, ``NO_COLOR`` and ``--no-color``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Self

from mlopsctl.core.events import (
    ApplyFinished,
    ApplyStarted,
    Event,
    StepFinished,
    StepNote,
    StepProgress,
    StepStarted,
    describe,
    fmt_seconds,
)

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.text import Text


def wants_live(color: bool, stream: IO[str] | None = None) -> bool:
    """A live display only on a real terminal with colour allowed and outside CI."""
    stream = stream or sys.stderr
    return (color and stream.isatty() and not os.environ.get("CI")
            and os.environ.get("TERM", "") not in ("dumb", ""))


def make_listener(color: bool) -> LiveDisplay | PlainLog:
    if wants_live(color):
        return LiveDisplay()
    return PlainLog(sys.stderr, color=color and sys.stderr.isatty())


def outcome_text(event: ApplyFinished) -> Text:
    """The outcome line, coloured like the plan's summary."""
    from rich.text import Text

    return Text(event.summary, style="bold green" if event.ok else "bold red")


class PlainLog:
    """Each event once, as a plain line; consecutive repeats of a step's phase are dropped."""

    def __init__(self, stream: IO[str], color: bool = False) -> None:
        self.stream = stream
        self.color = color
        self._lock = threading.Lock()
        self._phase: dict[str, str] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, StepProgress):
                if self._phase.get(event.address) == event.phase:
                    return
                self._phase[event.address] = event.phase
            if isinstance(event, ApplyFinished):
                self._outcome(event)
                return
            text = describe(event)
            if isinstance(event, StepNote):
                text = f"  {text}"
            if isinstance(event, ApplyStarted) and event.log_path:
                text = f"{text} Output of DVC and builds: {event.log_path}"
            if text:
                self.stream.write(text + "\n")
                self.stream.flush()

    def _outcome(self, event: ApplyFinished) -> None:
        if self.color:
            from rich.console import Console

            console = Console(file=self.stream, force_terminal=True, color_system="standard", highlight=False)
            console.print()
            console.print(outcome_text(event))
        else:
            self.stream.write(f"\n{event.summary}\n")
        self.stream.flush()


@dataclass
class _Running:
    verb: str
    started: float
    estimate: float | None
    phase: str = ""
    done: float | None = None
    total: float | None = None
    unit: str = ""
    spinner: Any = None


@dataclass
class _Overall:
    total: int = 0
    finished: int = 0
    began: float = field(default_factory=time.monotonic)
    estimates: dict[str, float] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    """Steps started or finished (their estimate no longer counts as "to come")."""


class LiveDisplay:
    """rich's Live at the bottom of the terminal; finished steps printed above it."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True, highlight=False)
        self._lock = threading.RLock()
        self._running: dict[str, _Running] = {}
        self._overall = _Overall()
        self._live: Live | None = None

    def __enter__(self) -> Self:
        from rich.live import Live

        self._live = Live(get_renderable=self._render, console=self.console, refresh_per_second=8, transient=True)
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        with self._lock:
            live, self._live = self._live, None
        if live is not None:
            live.stop()

    def _print(self, renderable: RenderableType) -> None:
        (self._live.console if self._live is not None else self.console).print(renderable)

    def __call__(self, event: Event) -> None:
        from rich.spinner import Spinner
        from rich.text import Text

        # State changes under our lock; printing after it, because Live's refresh thread holds
        # its own lock while it asks us for the display (the reverse order would deadlock).
        show: RenderableType | None = None
        with self._lock:
            o = self._overall
            if isinstance(event, ApplyStarted):
                o.total, o.began, o.estimates = event.total, time.monotonic(), dict(event.estimates)
            elif isinstance(event, StepStarted):
                o.seen.add(event.address)
                self._running[event.address] = _Running(event.verb, time.monotonic(), event.estimate,
                                                        spinner=Spinner("dots", style="cyan"))
            elif isinstance(event, StepProgress):
                run = self._running.get(event.address)
                if run is not None:
                    run.phase, run.done, run.total, run.unit = event.phase, event.done, event.total, event.unit
            elif isinstance(event, StepNote):
                show = Text("    " + event.text, style="dim")
            elif isinstance(event, StepFinished):
                o.seen.add(event.address)
                o.finished += 1
                self._running.pop(event.address, None)
                show = _finished_line(event)
        if show is not None:
            self._print(show)
        if isinstance(event, ApplyFinished):
            self._stop()
            self.console.print()
            self.console.print(outcome_text(event))

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            now = time.monotonic()
            rows = Table.grid(padding=(0, 1), expand=True)
            rows.add_column(width=1)
            rows.add_column(no_wrap=True, min_width=max((len(a) for a in self._running), default=0))
            rows.add_column(no_wrap=True, justify="right")
            rows.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
            took = {a: fmt_seconds(now - r.started) + (f" / ~{fmt_seconds(r.estimate)}" if r.estimate else "")
                    for a, r in self._running.items()}
            rows.add_column(no_wrap=True, justify="right", min_width=max((len(t) for t in took.values()), default=0))
            for address, run in self._running.items():
                what = Text(f"{run.verb}" + (f" · {run.phase}" if run.phase else ""), style="dim")
                count = Text(_count(run), style="cyan") if run.total else Text("")
                rows.add_row(run.spinner, Text(address, style="bold"), count, what, Text(took[address], style="dim"))
            o = self._overall
            if not o.total:
                return rows
            overall = Table.grid(padding=(0, 1))
            overall.add_column(no_wrap=True)
            overall.add_column(width=30)
            overall.add_column(no_wrap=True)
            head = Text("Applying", style="bold")
            head.append(f" {o.finished}/{o.total}")
            bar = ProgressBar(total=max(o.total, 1), completed=o.finished, width=30)
            overall.add_row(head, bar, Text(self._eta(now), style="dim"))
            return Group(rows, overall)

    def _eta(self, now: float) -> str:
        o = self._overall
        elapsed = fmt_seconds(now - o.began)
        if not o.estimates:
            return f"{elapsed} elapsed"
        left = sum(v for k, v in o.estimates.items() if k not in o.seen)
        left += sum(max(0.0, (r.estimate or 0.0) - (now - r.started)) for r in self._running.values())
        untimed = o.total - len(o.estimates)
        more = f" + {untimed} untimed step{'s' if untimed != 1 else ''}" if untimed > 0 else ""
        return f"{elapsed} elapsed · about {fmt_seconds(left)} left{more} (from the last runs)"


def _count(run: _Running) -> str:
    assert run.total
    done = run.done or 0
    if run.unit == "bytes":
        return f"{_size(done)} of {_size(run.total)}"
    return f"{done:g}/{run.total:g}" + (f" {run.unit}" if run.unit and run.unit != "steps" else "")


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _finished_line(event: StepFinished) -> Text:
    from rich.text import Text

    line = Text()
    if event.status == "ok":
        line.append("✓ ", style="bold green")
        line.append(event.address, style="bold")
        line.append(f" {event.verb} in {fmt_seconds(event.seconds) if event.seconds >= 1 else f'{event.seconds:.1f}s'}")
    elif event.status == "failed":
        line.append("✗ ", style="bold red")
        line.append(event.address, style="bold")
        line.append(f" failed after {event.seconds:.1f}s", style="red")
    elif event.status == "skipped":
        line.append("- ", style="yellow")
        line.append(event.address, style="bold")
        line.append(f" not attempted ({event.verb})", style="yellow")
    else:
        line.append("· ", style="dim")
        line.append(f"{event.address} already up to date", style="dim")
    return line
