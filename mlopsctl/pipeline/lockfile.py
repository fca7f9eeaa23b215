"""Writing stage entries into ``dvc.lock`` as they finish, one atomic write each.

``dvc.lock`` is kept as one text block per stage, each dumped the way DVC dumps the whole file
(:func:`mlopsctl.pipeline.record.dump_yaml`), so the file is byte for byte what DVC would write
and a later ``dvc repro`` rewrites it without noise. Recording a stage replaces or appends its
block and writes the file atomically; stages recorded while a write is under way go into the next
write together (group commit), so a thousand stages cost about as many small writes, not a
thousand re-reads and re-dumps of the whole file. A kill at any point leaves the file as the last
finished write left it: every stage recorded in it is complete.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from mlopsctl.pipeline.record import dump_yaml
from mlopsctl.workspace.digests import read_small

LOCK_FILE = "dvc.lock"
_HEADER = "schema: '2.0'\nstages:\n"
_STAGE_LINE = re.compile(r"^  (?! )[^\n]*:\n", re.MULTILINE)


def _block(name: str, entry: dict[str, Any]) -> str:
    """The lines of one stage under ``stages:`` exactly as DVC dumps them in the whole file."""
    return dump_yaml({"stages": {name: entry}}).split("\n", 1)[1]


class LockWriter:
    """Thread-safe: :meth:`record` writes one stage's entry in at once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / LOCK_FILE
        self.blocks: dict[str, str] = {}
        self._mutex = threading.Lock()
        self._write = threading.Lock()
        self._version = 0  # bumped by each record
        self._written = 0  # the version the file on disk holds
        self._load()

    def _load(self) -> None:
        from mlopsctl.specs.yamlio import load_block

        try:
            text = read_small(self.path).decode("utf-8")
        except FileNotFoundError:
            return
        doc = load_block(text) or {}
        stages = dict(doc.get("stages") or {}) if isinstance(doc, dict) else {}
        if text.startswith(_HEADER):
            body = text[len(_HEADER):]
            starts = [m.start() for m in _STAGE_LINE.finditer(body)]
            pieces = [body[a:b] for a, b in zip(starts, [*starts[1:], len(body)], strict=True)]
            names = [p.split(":", 1)[0].strip().strip("'\"") for p in pieces]
            if (not body or starts and starts[0] == 0) and names == list(stages):
                self.blocks = dict(zip(names, pieces, strict=True))
                return
        # Not laid out as DVC dumps it (edited by hand?): every entry dumped anew.
        self.blocks = {name: _block(name, entry) for name, entry in stages.items()}

    def text(self) -> str:
        return _HEADER + "".join(self.blocks.values())

    def record(self, name: str, entry: dict[str, Any]) -> None:
        from mlopsctl.workspace.fsafe import write_atomic

        block = _block(name, entry)
        with self._mutex:
            self.blocks[name] = block
            self._version += 1
            mine = self._version
        with self._write:
            if self._written >= mine:
                return  # a write that started after ours was recorded already holds it
            with self._mutex:
                text, version = self.text(), self._version
            write_atomic(self.path, text, root=self.root)
            self._written = version
