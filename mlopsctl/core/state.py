"""The small local state: an append-only apply history under .mlopsctl/ (never committed).

Only what cannot be read back from reality lives here: which apply did what and when, and how
long steps took. Each finished step is one JSON line appended with a single write and fsync, so
a crash or kill -9 loses at most the step that was running; a torn last line is skipped on
read. Losing the whole folder loses no data: the next plan re-reads reality.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.errors import WriteError

HISTORY = "history.jsonl"


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


@dataclass
class Journal:
    """Records one apply run's steps as they finish."""

    state_dir: Path
    command: str = "apply"
    apply_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def _append(self, record: dict[str, Any]) -> None:
        from mlopsctl.workspace.fsafe import describe, ensure_dir, open_in

        line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode()
        fd = open_in(ensure_dir(self.state_dir), HISTORY, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line)
            os.fsync(fd)
        except OSError as e:
            raise WriteError(f"cannot record the apply in {self.state_dir.name}/{HISTORY}: {describe(e)}",
                             e.errno) from None
        finally:
            os.close(fd)

    def start(self, n_changes: int) -> None:
        self._append({"event": "start", "apply": self.apply_id, "command": self.command, "time": now_iso(),
                      "changes": n_changes, "pid": os.getpid()})

    def step(self, address: str, action: str, status: str, seconds: float, *,
             reasons: tuple[str, ...] = (), facts: dict[str, Any] | None = None, error: str | None = None) -> None:
        self._append({"event": "step", "apply": self.apply_id, "time": now_iso(), "address": address,
                      "action": action, "status": status, "seconds": round(seconds, 3),
                      "reasons": list(reasons), "facts": facts or {}, "error": error})

    def finish(self, status: str, summary: dict[str, int]) -> None:
        self._append({"event": "finish", "apply": self.apply_id, "time": now_iso(), "status": status, **summary})


def read_history(state_dir: Path) -> Iterator[dict[str, Any]]:
    path = state_dir / HISTORY
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise WriteError(f"{state_dir.name} is a file, but mlopsctl keeps its state in the folder {state_dir.name}/; "
                         "move the file away") from None
    except OSError as e:
        from mlopsctl.workspace.fsafe import describe

        raise WriteError(f"cannot read {state_dir.name}/{HISTORY}: {describe(e)}", e.errno) from None
    with f:
        for raw in f:
            try:
                rec = json.loads(raw)
            except ValueError:
                continue  # a torn line from a crash mid-write
            if isinstance(rec, dict):
                yield rec


def last_steps(state_dir: Path) -> dict[str, dict[str, Any]]:
    """The last successful step recorded per address."""
    out: dict[str, dict[str, Any]] = {}
    for rec in read_history(state_dir):
        if rec.get("event") == "step" and rec.get("status") == "ok":
            out[rec["address"]] = rec
    return out
