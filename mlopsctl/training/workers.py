"""A pool of long-lived training workers (:mod:`mlopsctl.training.worker`), shared by the threads
that run stages during one apply.

Each worker is a process of its own: a crash or ``kill -9`` of one fails the stage it was
running, with the tail of that stage's log, and the next stage gets a fresh worker. Workers start
lazily (an apply that trains one model starts one) and stop when apply is done;
:meth:`WorkerPool.terminate` stops them all at once (Ctrl-C).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mlopsctl.errors import MlopsError

LOG_TAIL_LINES = 25


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    answers: IO[str]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class WorkerPool:
    def __init__(self, root: Path, size: int) -> None:
        self.root = root
        self.size = max(1, size)
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._all: list[_Worker] = []
        self._mutex = threading.Lock()
        self._slots = threading.Semaphore(self.size)
        self._closed = False
        self.busy = 0
        """Jobs running now (the batched push reads it to tell when training has gone quiet)."""

    def _spawn(self) -> _Worker:
        # The worker asks for SIGTERM when its parent dies; Linux means the spawning *thread*: the
        # executor's threads live until apply's end, after close() has stopped the workers.
        read_fd, write_fd = os.pipe()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "DVC_NO_ANALYTICS": "1"}
        bindir = str(Path(sys.executable).parent)  # `mlopsctl` in a custom command is this one
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mlopsctl.training.worker", str(self.root), str(write_fd), str(os.getpid())],
                cwd=self.root, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        worker = _Worker(proc, os.fdopen(read_fd, "r", encoding="utf-8"))
        with self._mutex:
            self._all.append(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        with self._mutex:
            if worker in self._all:
                self._all.remove(worker)
        if worker.proc.poll() is None:
            worker.proc.kill()
        worker.proc.wait()
        worker.answers.close()

    def run(self, stage: dict[str, Any], log: Path, phase: Callable[[str], None] | None = None) -> dict[str, Any]:
        """Run one stage in a worker (blocking); returns its ``dvc.lock`` entry, the run record's
        path and the seconds it took. ``phase`` hears each training phase as it starts.

        MlopsError when the stage failed or its worker died, with the tail of its log."""
        with self._slots:
            if self._closed:
                raise MlopsError(f"stage {stage['name']} was not started: apply is stopping")
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = self._spawn()
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_bytes(b"")
            with self._mutex:
                self.busy += 1
            answer: dict[str, Any] | None = None
            try:
                assert worker.proc.stdin is not None
                try:
                    worker.proc.stdin.write((json.dumps({"stage": stage, "log": str(log)}) + "\n").encode())
                    worker.proc.stdin.flush()
                    while answer is None:
                        line = worker.answers.readline()
                        if not line:
                            break
                        message = json.loads(line)
                        if "phase" in message:
                            if phase is not None:
                                phase(str(message["phase"]))
                        else:
                            answer = message
                except (BrokenPipeError, OSError, ValueError):
                    answer = None
            finally:
                with self._mutex:
                    self.busy -= 1
            if answer is None:
                self._discard(worker)
                rc = worker.proc.returncode
                how = f"was killed by signal {-rc}" if rc is not None and rc < 0 else f"exited ({rc})"
                raise MlopsError(self._with_log(f"the training worker (pid {worker.proc.pid}) {how} while running "
                                                f"stage {stage['name']}", log))
            self._idle.put(worker)
        if not answer.get("ok"):
            raise MlopsError(self._with_log(f"stage {stage['name']} failed: {answer.get('error')}", log))
        return answer

    def _with_log(self, message: str, log: Path) -> str:
        tail = log_tail(log)
        shown = os.path.relpath(log, self.root)
        if not tail:
            return f"{message} (log: {shown})"
        lines = "\n".join(f"  | {line}" for line in tail.splitlines())
        return f"{message}; the last lines of its log ({shown}):\n{lines}"

    def close(self) -> None:
        """Let idle workers finish (end of input) and wait for them."""
        self._closed = True
        with self._mutex:
            workers = list(self._all)
        for w in workers:
            try:
                if w.proc.stdin:
                    w.proc.stdin.close()
            except OSError:
                pass
        for w in workers:
            _reap(w, timeout=10)
            w.answers.close()

    def terminate(self) -> None:
        """Stop every worker now (Ctrl-C): running stages fail and are not recorded."""
        self._closed = True
        with self._mutex:
            workers = list(self._all)
        for w in workers:
            if w.proc.poll() is None:
                try:
                    w.proc.send_signal(signal.SIGTERM)
                except OSError:
                    pass
        for w in workers:
            _reap(w, timeout=5)


def _reap(worker: _Worker, *, timeout: float) -> None:
    """Wait for a worker to end; kill it if it has not within ``timeout`` seconds."""
    try:
        worker.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.proc.kill()
        worker.proc.wait()
