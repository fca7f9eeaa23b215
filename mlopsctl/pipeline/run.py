"""Running DVC itself (apply only): ``dvc`` from this environment in a subprocess.

A subprocess rather than ``dvc.repo.Repo`` in-process: DVC takes over logging, holds repo
locks and keeps caches, and a user who sees ``dvc repro train_iris`` in our log can run the
very same command by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mlopsctl.errors import MlopsError, UnavailableError

# DVC's hints about committing its files: mlopsctl's own output says what to commit.
_NOISE = ("To track the changes with git", "git add ", "To enable auto staging", "dvc config core.autostage",
          "Use `dvc push`")
PHASE_MARKER = "@@mlopsctl-phase "
"""The trainer, run under DVC by apply (``MLOPSCTL_PROGRESS=markers``), starts a line with this to
say which phase it entered; :func:`run_dvc` turns such lines into progress instead of output."""
TAIL_LINES = 25


def dvc_command() -> list[str]:
    """``dvc`` beside the running interpreter (the venv's), else ``python -m dvc``."""
    script = Path(sys.executable).parent / "dvc"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "dvc"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DVC_NO_ANALYTICS", "1")
    env["MLOPSCTL_PROGRESS"] = "markers"  # the trainer says its phases in lines we can parse
    # mlopsctl in the stage's cmd must be this environment's.
    bindir = str(Path(sys.executable).parent)
    if bindir not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def run_dvc(
    root: Path,
    args: Sequence[str],
    *,
    log: Callable[[str], None] | None = None,
    progress: Callable[[str], None] | None = None,
    what: str = "",
) -> str:
    """Run ``dvc ARGS`` in ``root``; hand each output line to ``log`` as it comes (apply sends
    them to its log file) and each phase the trainer announces to ``progress``; return the output.
    Non-zero exit -> MlopsError with the last lines of the output."""
    cmd = [*dvc_command(), *args]
    label = what or "dvc " + " ".join(args)
    if progress:
        progress(label)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd, cwd=root, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, errors="replace",
        )
    except OSError as e:
        raise UnavailableError(f"cannot run DVC ({' '.join(cmd)}): {e}") from e
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith(PHASE_MARKER):
                phase = line[len(PHASE_MARKER):].strip()
                if progress:
                    progress(phase)
                if log:
                    log(f"[phase] {phase}")
                continue
            lines.append(line)
            if log and line.strip() and not line.strip().startswith(_NOISE):
                log(line)
        rc = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        raise
    out = "\n".join(lines)
    if rc != 0:
        tail = "\n".join(f"  | {line}" for line in lines[-TAIL_LINES:])
        raise MlopsError(f"`{label}` failed (exit {rc}) after {time.monotonic() - started:.1f}s; "
                         f"the last lines of its output:\n{tail}")
    return out


def dvc_repo() -> Any:
    """DVC's ``Repo`` class, imported into this process (to ask remotes and object stores).

    Importing DVC calls ``colorama.init()``, whose exit handler writes a colour reset to a
    terminal even under NO_COLOR; mlopsctl prints nothing through colorama, so it is undone."""
    streams = sys.stdout, sys.stderr
    from dvc.repo import Repo

    try:
        import atexit

        from colorama import initialise
    except ImportError:
        return Repo
    atexit.unregister(initialise.reset_all)
    initialise.deinit()
    # deinit() puts back the streams of colorama's first init, which may not be this moment's
    # (a test runner capturing output swaps them): the ones in place before the import stay.
    sys.stdout, sys.stderr = streams
    return Repo
