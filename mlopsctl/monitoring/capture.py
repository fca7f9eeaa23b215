"""Request capture for the serving container: JSON lines, sampled, bounded in size, rotated.

This module uses the standard library only: the serving image does not depend on mlopsctl, so
the image build copies this very file next to ``serve.py`` (docker/<model>/capture.py, rendered
from this source), and ``serve.py`` calls :func:`from_env` once and :meth:`Capture.record` per
request. ``mlopsctl drift --env ENV`` reads the files back from the host folder the deployment
mounts (``.mlopsctl/capture/<model>/<env>/``).

One line per predicted row: ``{"ts": unix seconds, "version": N, "features": {...}, "prediction": ...}``.
Rows are kept with probability ``sample``. The log is two files, ``requests.jsonl`` (being
written) and ``requests.1.jsonl`` (the previous one); when the first would grow past half of
``max_bytes`` it replaces the second, so the whole log never exceeds ``max_bytes`` and the oldest
records are the ones dropped. A full disk or a read-only mount never fails a prediction: capture
stops with one warning on stderr.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from typing import Any

CURRENT = "requests.jsonl"
PREVIOUS = "requests.1.jsonl"
FILES = (PREVIOUS, CURRENT)
"""Oldest first: the order readers concatenate them in."""


class Capture:
    def __init__(self, directory: str, sample: float = 1.0, max_bytes: int = 50 * 1024 * 1024,
                 version: Any = None, seed: int | None = None) -> None:
        self.directory = directory
        self.sample = min(max(float(sample), 0.0), 1.0)
        self.max_bytes = max(int(max_bytes), 2048)
        self.version = version
        self.enabled = True
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._path = os.path.join(directory, CURRENT)
        self._size = -1

    def record(self, rows: list[dict[str, Any]], predictions: list[Any]) -> int:
        """Append the sampled rows with their predictions; returns how many were written."""
        if not self.enabled or self.sample <= 0:
            return 0
        now = round(time.time(), 3)
        lines = [
            json.dumps({"ts": now, "version": self.version, "features": row, "prediction": pred},
                       separators=(",", ":"), default=str) + "\n"
            for row, pred in zip(rows, predictions)
            if self.sample >= 1 or self._rng.random() < self.sample
        ]
        if not lines:
            return 0
        data = "".join(lines).encode("utf-8")
        with self._lock:
            try:
                self._append(data)
            except OSError as e:
                self.enabled = False
                print(f"serve: request capture stopped: cannot write {self._path}: {e}", file=sys.stderr, flush=True)
                return 0
        return len(lines)

    def _append(self, data: bytes) -> None:
        if self._size < 0:
            os.makedirs(self.directory, exist_ok=True)
            try:
                self._size = os.path.getsize(self._path)
            except FileNotFoundError:
                self._size = 0
        half = self.max_bytes // 2
        if self._size and self._size + len(data) > half:
            os.replace(self._path, os.path.join(self.directory, PREVIOUS))
            self._size = 0
        if len(data) > half:  # one huge batch: keep what fits, newest rows last
            data = data[len(data) - half:]
            data = data[data.index(b"\n") + 1:] if b"\n" in data[:-1] else b""
        with open(self._path, "ab") as f:
            f.write(data)
        self._size += len(data)


def from_env(version: Any = None, environ: dict[str, str] | None = None) -> Capture | None:
    """The capture the deployment configured (MLOPSCTL_CAPTURE_DIR/_SAMPLE/_MAX_MB), or None."""
    env = os.environ if environ is None else environ
    directory = env.get("MLOPSCTL_CAPTURE_DIR")
    if not directory:
        return None
    try:
        sample = float(env.get("MLOPSCTL_CAPTURE_SAMPLE", "1"))
        max_mb = float(env.get("MLOPSCTL_CAPTURE_MAX_MB", "50"))
    except ValueError:
        print("serve: request capture off: MLOPSCTL_CAPTURE_SAMPLE/_MAX_MB are not numbers", file=sys.stderr)
        return None
    return Capture(directory, sample=sample, max_bytes=int(max_mb * 1024 * 1024), version=version)
