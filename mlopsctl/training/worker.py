"""A long-lived training worker: ``python -m mlopsctl.training.worker ROOT FD PARENT``.

Apply starts a few of these and hands each one stage at a time (one JSON line on stdin). A worker
imports the ML stack once, then for every job runs the stage's command with its output going to
the stage's log file: the built-in ``mlopsctl train MODEL`` in-process, a custom command in a
shell as DVC would. It then records the run as ``dvc repro`` does (:mod:`mlopsctl.pipeline.record`:
the ``dvc.lock`` entry, the outputs in the DVC cache, the run-cache record) and answers on the
channel ``FD``: a ``{"phase": ...}`` line per training phase, then one line with the outcome. A
worker that dies mid-job takes only that job with it: the parent sees the channel close.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import IO, Any

PRELOAD = ("numpy", "pandas", "joblib", "sklearn.ensemble", "sklearn.linear_model", "sklearn.pipeline",
           "sklearn.compose", "sklearn.preprocessing", "sklearn.model_selection", "sklearn.metrics")

_CHILD: subprocess.Popen[bytes] | None = None


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import mlopsctl.training.train  # noqa: F401


def _stop(signum: int, frame: Any) -> None:
    """SIGINT/SIGTERM: end the running command with everything it started, then this worker."""
    child = _CHILD
    if child is not None and child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(128 + signum)


def builtin_model(stage: dict[str, Any]) -> str | None:
    """The model a stage trains with the built-in trainer, else None (a custom command)."""
    import shlex

    if not stage.get("custom") and stage["cmd"] == f"mlopsctl train {shlex.quote(stage['model'])}":
        return str(stage["model"])
    return None


def _run_command(root: Path, stage: dict[str, Any]) -> None:
    from mlopsctl.errors import MlopsError

    model = builtin_model(stage)
    if model is not None:
        from mlopsctl.training.train import train

        train(root, model, progress=True)
        return
    from mlopsctl.training.contract import check_file

    if (root / str(stage["params"]["data"]["path"] or "")).is_file():
        check_file(root, stage["params"])  # refuses before the command runs
    print(f"> {stage['cmd']}", file=sys.stderr, flush=True)
    global _CHILD
    # A session of its own, so stopping this worker stops the whole command (see _stop).
    # The pool put this environment's bin first on PATH: `mlopsctl` in the command is this one.
    _CHILD = subprocess.Popen(stage["cmd"], shell=True, cwd=root, stdin=subprocess.DEVNULL, start_new_session=True)
    rc = _CHILD.wait()
    _CHILD = None
    if rc != 0:
        raise MlopsError(f"command `{stage['cmd']}` of stage {stage['name']} failed (exit {rc})")


def run_job(root: Path, stage: dict[str, Any], cache: Any) -> dict[str, Any]:
    """Run one stage and record it; the outcome as data (never raises)."""
    from mlopsctl.errors import MlopsError
    from mlopsctl.pipeline.facts import dvcignore_names
    from mlopsctl.pipeline.record import save_outs, save_run, stage_entry
    from mlopsctl.pipeline.runcache import restore

    started = time.monotonic()
    try:
        ignore = dvcignore_names(root)
        cached = restore(root, stage, cache, ignore)
        if cached is not None:
            print(f"Stage '{stage['name']}' is cached - skipping run, checking out outputs", file=sys.stderr, flush=True)
            return {"ok": True, "entry": cached[0], "run": str(cached[1]), "restored": True,
                    "seconds": time.monotonic() - started}
        _run_command(root, stage)
        try:
            entry = stage_entry(root, stage, cache, ignore)
        except FileNotFoundError as e:
            raise MlopsError(f"stage {stage['name']} ran but did not write its declared output {e.args[0]}") from None
        save_outs(root, entry, cache, ignore)
        run = save_run(root, entry)
    except MlopsError as e:
        print(f"error: {e.message}", file=sys.stderr, flush=True)
        return {"ok": False, "error": e.message, "seconds": time.monotonic() - started}
    except Exception as e:  # noqa: BLE001 - the stage's failure, with the traceback in its log
        traceback.print_exc()
        sys.stderr.flush()
        return {"ok": False, "error": f"{type(e).__name__}: {e}", "seconds": time.monotonic() - started}
    return {"ok": True, "entry": entry, "run": str(run), "seconds": time.monotonic() - started}


def _answer(channel: IO[str], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message, default=str) + "\n")
    channel.flush()


def _die_with_parent(parent: int) -> None:
    """Linux: SIGTERM when apply dies (even by kill -9), so no worker trains on as an orphan."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # apply died before the request took effect
        _stop(signal.SIGTERM, None)


def main() -> None:
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    _die_with_parent(int(sys.argv[3]))
    root = Path(sys.argv[1]).resolve()
    channel = os.fdopen(int(sys.argv[2]), "w", encoding="utf-8")  # answers; stdout belongs to the jobs
    os.chdir(root)
    os.environ["MLOPSCTL_PROGRESS"] = "markers"
    _preload()
    from mlopsctl.pipeline.facts import StatCache
    from mlopsctl.training import train

    train.PHASE_SINK = lambda what: _answer(channel, {"phase": what})
    cache = StatCache(root)  # read-only here: the parent keeps its own
    saved_out, saved_err = os.dup(1), os.dup(2)
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        with open(job["log"], "ab", buffering=0) as log:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                answer = run_job(root, job["stage"], cache)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved_out, 1)
                os.dup2(saved_err, 2)
        _answer(channel, answer)


if __name__ == "__main__":
    main()
