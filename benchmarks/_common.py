"""Timing helpers shared by the benchmarks (plain Python, run from the project's venv)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the shared builders, imported as tests.builders


def venv_script(name: str) -> str:
    """A console script of the running interpreter's environment (same Python as the venv)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        sys.exit(f"{path} not found: run this with the venv's Python (.venv/bin/python) after scripts/setup.sh")
    return str(path)


def mlopsctl_command() -> list[str]:
    """``mlopsctl`` as ``python -m mlopsctl``: with ``PYTHONPATH`` set to another source tree (an export
    of an older commit), that tree's own entry point runs, whatever the installed script imports."""
    venv_script("mlopsctl")  # fail early outside the venv
    return [sys.executable, "-m", "mlopsctl"]


def time_runs(
    cmd: Sequence[str], *, runs: int, cwd: str | os.PathLike[str] | None = None, ok_codes: Sequence[int] = (0,)
) -> list[float]:
    """Wall time (seconds) of ``runs`` runs of ``cmd``; stops with a message if one fails."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode not in ok_codes:
            sys.exit(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return times


def summary(times: Sequence[float]) -> str:
    return (
        f"median {statistics.median(times) * 1000:7.1f} ms  "
        f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}, n={len(times)})"
    )
