"""The apply lock: one apply at a time per repository.

An advisory ``flock`` on ``.mlopsctl/lock`` is released by the kernel when its holder dies
(kill -9 included), so a crashed apply never blocks the next one. The holder writes who it is
into the file so a second apply can say who holds the lock and since when.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from mlopsctl.errors import LockError

LOCK = "lock"


def _age(since: str) -> str:
    try:
        t = _dt.datetime.fromisoformat(since)
    except (TypeError, ValueError):
        return "unknown time"
    secs = int((_dt.datetime.now(_dt.UTC) - t).total_seconds())
    if secs < 120:
        return f"{secs} s"
    if secs < 7200:
        return f"{secs // 60} min"
    return f"{secs // 3600} h"


def read_holder(state_dir: Path) -> dict[str, Any] | None:
    try:
        text = (state_dir / LOCK).read_text(encoding="utf-8")
        holder = json.loads(text) if text.strip() else None
    except (FileNotFoundError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def describe(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "an unknown process"
    since = holder.get("since", "?")
    return (f"pid {holder.get('pid')} on {holder.get('host')} (user {holder.get('user')}), "
            f"running `{holder.get('command')}` since {since} ({_age(since)} ago)")


class ApplyLock:
    def __init__(self, state_dir: Path, command: str, timeout: float = 0.0) -> None:
        self.state_dir = state_dir
        self.command = command
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self) -> None:
        from mlopsctl.workspace.fsafe import ensure_dir, open_in

        fd = open_in(ensure_dir(self.state_dir), LOCK, os.O_RDWR | os.O_CREAT)
        deadline = time.monotonic() + max(self.timeout, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    holder = read_holder(self.state_dir)
                    raise LockError(
                        f"another apply holds the lock: {describe(holder)}.\n"
                        "Wait for it to finish (or pass --lock-timeout SECONDS to wait). If that process is gone "
                        "(e.g. the lock lives on a network filesystem), clear it with `mlopsctl unlock`."
                    ) from None
                time.sleep(0.2)
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "user": os.environ.get("USER") or os.environ.get("USERNAME") or str(os.getuid()),
            "command": self.command,
            "since": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode(), 0)
            os.fsync(fd)
        except OSError as e:
            os.close(fd)
            from mlopsctl.errors import WriteError
            from mlopsctl.workspace import fsafe

            raise WriteError(f"cannot take the apply lock in {self.state_dir.name}/{LOCK}: {fsafe.describe(e)}",
                             e.errno) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def unlock(state_dir: Path, force: bool = False) -> str:
    """Clear a lock left behind; refuses while a live process holds it unless forced."""
    path = state_dir / LOCK
    if not path.exists():
        return "No lock to clear."
    fd = os.open(path, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_holder(state_dir)
            if not force:
                raise LockError(
                    f"the lock is held by a running process: {describe(holder)}.\n"
                    "Stop that process first, or use `mlopsctl unlock --force` if you are sure it is gone."
                ) from None
            os.unlink(path)
            return f"Removed the lock held by {describe(holder)}."
        holder = read_holder(state_dir)
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return f"Cleared a stale lock record ({describe(holder)})." if holder else "No apply holds the lock."
