"""The two presentations of apply's events: plain lines (each event once) and the live display
(running steps at the bottom, several at once, finished steps above)."""

from __future__ import annotations

import io
import threading

from mlopsctl.core import events as ev
from mlopsctl.render.progress import LiveDisplay, PlainLog, wants_live


def _story() -> list[ev.Event]:
    return [
        ev.ApplyStarted(3, {"stage.iris.train": 60.0}, ".mlopsctl/logs/apply-x.log"),
        ev.StepStarted("stage.iris.train", "update", "updating", 60.0),
        ev.StepProgress("stage.iris.train", "dvc repro train_iris"),
        ev.StepProgress("stage.iris.train", "fit MLPClassifier on 112 rows"),
        ev.StepProgress("stage.iris.train", "fit MLPClassifier on 112 rows"),  # said again: shown once
        ev.StepFinished("stage.iris.train", "update", "ok", "updated", 62.0),
        ev.StepStarted("model.iris", "create", "creating"),
        ev.StepNote("model.iris", "iris: registered v3 (accuracy 0.97)"),
        ev.StepFinished("model.iris", "create", "ok", "created", 0.2),
        ev.StepFinished("image.iris", "update", "skipped", "depends on model.iris, which did not apply"),
        ev.ApplyFinished(True, "Apply complete: 2 changed.", 63.0, ".mlopsctl/logs/apply-x.log"),
    ]


def test_plain_log_says_each_event_once_without_escape_codes() -> None:
    out = io.StringIO()
    log = PlainLog(out)
    for e in _story():
        log(e)
    assert out.getvalue().splitlines() == [
        ("Applying 3 changes (the last runs of these steps took about 1m00s). Output of DVC and builds: "
        ".mlopsctl/logs/apply-x.log"),
        "stage.iris.train: updating...",
        "stage.iris.train: dvc repro train_iris",
        "stage.iris.train: fit MLPClassifier on 112 rows",
        "stage.iris.train: updated (62.0s)",
        "model.iris: creating...",
        "  iris: registered v3 (accuracy 0.97)",
        "model.iris: created (0.2s)",
        "image.iris: not attempted (depends on model.iris, which did not apply)",
        "",
        "Apply complete: 2 changed.",
    ]
    assert "\x1b[" not in out.getvalue()


def test_plain_log_colours_only_the_outcome_line_when_asked() -> None:
    out = io.StringIO()
    PlainLog(out, color=True)(ev.ApplyFinished(False, "Apply failed: 0 changed, 1 failed, 0 not attempted.", 1.0))
    assert "\x1b[1;31mApply failed" in out.getvalue()


def _console(buf: io.StringIO):  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(file=buf, force_terminal=True, color_system="standard", width=120, highlight=False,
                   _environ={})


def test_live_display_shows_several_running_steps_and_the_overall_estimate() -> None:
    buf = io.StringIO()
    display = LiveDisplay(_console(buf))
    last = {"stage.iris.train": 60.0, "stage.wine.train": 30.0}
    display(ev.ApplyStarted(4, last))
    # Two trainings in parallel, reporting from their own threads.
    workers = [
        threading.Thread(target=lambda a=a: (display(ev.StepStarted(a, "update", "updating", last[a])),
                                             display(ev.StepProgress(a, f"fit on {a} rows"))))
        for a in last
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    display(ev.StepStarted("image.iris", "update", "updating"))
    display(ev.StepProgress("image.iris", "build v2: RUN pip install", 3, 9, "steps"))
    text = _plain(display)
    assert "stage.iris.train" in text and "fit on stage.iris.train rows" in text
    assert "stage.wine.train" in text and "fit on stage.wine.train rows" in text
    assert "image.iris" in text and "3/9" in text and "build v2: RUN pip install" in text
    assert "Applying 0/4" in text and "about 1m30s left + 2 untimed steps" in text


def test_live_display_prints_finished_steps_above_and_the_coloured_outcome() -> None:
    buf = io.StringIO()
    display = LiveDisplay(_console(buf))
    with display:
        for e in _story()[:-1]:
            display(e)
        assert "stage.iris.train" not in _plain(display)  # finished: no longer at the bottom
    display(_story()[-1])
    out = buf.getvalue()
    assert "✓ " in out and "stage.iris.train" in out and "updated in 1m02s" in out
    assert "iris: registered v3" in out and "not attempted" in out
    assert "\x1b[1;32mApply complete: 2 changed." in out


def _plain(display: LiveDisplay) -> str:
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=120, color_system=None, _environ={}).print(display._render())
    return buf.getvalue()


def test_live_only_on_a_colour_terminal_outside_ci(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert wants_live(True, Tty())
    assert not wants_live(False, Tty())  # --no-color, NO_COLOR, GitHub Actions
    assert not wants_live(True, io.StringIO())  # a pipe or a file
    monkeypatch.setenv("CI", "true")
    assert not wants_live(True, Tty())
