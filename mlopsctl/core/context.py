"""What a provider gets to see while planning and applying."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlopsctl.core.model import Change
    from mlopsctl.core.specs_model import Project


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


@dataclass
class Context:
    root: Path
    """The repository root (where mlops.yaml is)."""
    project: Project
    force: bool = False
    """The user asked explicitly to overwrite hand edits and unmanaged files (a backup is kept)."""
    destroy: bool = False
    """Planning a destroy: every owned resource that may be removed is deleted."""
    upstream: dict[str, Change] = field(default_factory=dict)
    """Changes computed so far, by address (dependencies are always computed first)."""
    applied: set[str] = field(default_factory=set)
    """Addresses already carried out in this apply run (empty while planning): a provider re-diffed
    at apply can tell "the stage will run" from "the stage just ran"."""
    log: Callable[[str], None] = _stderr
    """Progress and log lines for people; never stdout (stdout may carry JSON)."""
    cache: dict[str, Any] = field(default_factory=dict)
    """Per-run memo for providers (e.g. one git status for all files)."""

    @property
    def state_dir(self) -> Path:
        return self.root / ".mlopsctl"
