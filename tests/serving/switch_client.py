"""A bounded client for switch measurements: one request at a time, a new connection each, until stopped.

Used by the switch tests (zero failures) and ``benchmarks/bench_switch.py`` (sent, failed, p99).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

ROW = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


class Client:
    """One request at a time to the environment's address, new connection each, until stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sent = 0
        self.failed: list[str] = []
        self.latencies: list[float] = []
        self.versions: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        body = json.dumps({"rows": [ROW]}).encode()
        while not self._stop.is_set():
            req = urllib.request.Request(f"http://127.0.0.1:{self.port}/predict", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            start = time.perf_counter()
            self.sent += 1
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    self.versions.add(json.loads(resp.read())["version"])
            except (urllib.error.URLError, OSError, ValueError) as e:
                self.failed.append(repr(e))
            self.latencies.append(time.perf_counter() - start)
            time.sleep(0.005)

    @contextmanager
    def running(self) -> Iterator[Client]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=30)

    def percentile(self, q: float) -> float:
        """The q-th percentile (0-100) of the request latencies, in seconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]
