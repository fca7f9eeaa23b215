"""Snapshot files for rendered output a person reads (tests/render/snapshots/).

Set ``MLOPSCTL_UPDATE_SNAPSHOTS=1`` to rewrite them after an intended change, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

SNAPSHOTS = Path(__file__).parent / "snapshots"


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("MLOPSCTL_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"snapshot {path} is missing (MLOPSCTL_UPDATE_SNAPSHOTS=1 writes it)"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"rendered output differs from {path} (MLOPSCTL_UPDATE_SNAPSHOTS=1 rewrites it)"
