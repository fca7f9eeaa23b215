"""Running DVC itself (apply only): ``dvc`` from this environment in a subprocess.

A subprocess rather than ``dvc.repo.Repo`` in-process: DVC takes over logging, holds repo
locks and keeps caches, and a user who sees ``dvc repro train_iris`` in our log can run the
very same command by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mlopsctl.errors import MlopsError, UnavailableError

# DVC's hints about committing its files: mlopsctl's own output says what to commit.
_NOISE = ("To track the changes with git", "git add ", "To enable auto staging", "dvc config core.autostage",
          "Use `dvc push`")


def dvc_command() -> list[str]:
    """``dvc`` beside the running interpreter (the venv's), else ``python -m dvc``."""
    script = Path(sys.executable).parent / "dvc"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "dvc"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DVC_NO_ANALYTICS", "1")
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
    what: str = "",
    heartbeat: float = 15.0,
) -> str:
    """Run ``dvc ARGS`` in ``root``; forward its output lines to ``log`` as they come, with a
    periodic "still running (Ns)" line; return the output. Non-zero exit -> MlopsError."""
    cmd = [*dvc_command(), *args]
    label = what or "dvc " + " ".join(args)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd, cwd=root, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, errors="replace",
        )
    except OSError as e:
        raise UnavailableError(f"cannot run DVC ({' '.join(cmd)}): {e}") from e
    lines: list[str] = []
    done = threading.Event()

    def beat() -> None:
        while not done.wait(heartbeat):
            if log:
                log(f"  {label}: still running ({time.monotonic() - started:.0f}s)")

    ticker = threading.Thread(target=beat, daemon=True)
    ticker.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            if log and line.strip() and not line.strip().startswith(_NOISE):
                log(f"  {line}")
        rc = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        raise
    finally:
        done.set()
    out = "\n".join(lines)
    if rc != 0:
        tail = "\n".join(lines[-25:])
        raise MlopsError(f"`dvc {' '.join(args)}` failed (exit {rc}) after {time.monotonic() - started:.1f}s:\n{tail}")
    return out


def push_objects(root: Path, md5s: Sequence[str]) -> int:
    """Push these objects of the local DVC cache to the default remote; returns how many went.

    ``dvc push --run-cache`` sends the run records but not the objects of outputs kept in Git
    (``cache: false``: metrics, plots), which DVC committed to the cache when it recorded the run;
    without them a runner elsewhere cannot restore the run and trains again.
    """
    from dvc.repo import Repo
    from dvc_data.hashfile.hash_info import HashInfo

    with Repo(str(root)) as repo:
        present = [HashInfo("md5", m) for m in md5s if m and repo.cache.local.exists(m)]
        if not present:
            return 0
        return len(repo.cloud.push(present).transferred)
