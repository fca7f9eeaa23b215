"""A child process that works beside the command and says what it found in lines of JSON.

Two such children help a large first plan: the facts helper (:mod:`mlopsctl.pipeline.prefetch`)
and the read worker (:mod:`mlopsctl.core.readers`). Both are forked, so they start at once with
what the command has already loaded, and both write to a :class:`Channel`: an anonymous file in
memory (``memfd_create``; elsewhere an unlinked temporary file) that the child appends to and the
command reads from where it last stopped. Unlike a pipe, it never fills, so the command needs no
thread to drain it, and a process without threads is the only one ever forked (:func:`fork`).

A child never changes what the command will do: whatever it says is taken only where it holds
(each helper says what holds), and a child that fails, is killed or says something unreadable
only costs time.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from typing import Any


class Channel:
    """Lines of JSON from a child to its parent, through an anonymous file."""

    def __init__(self) -> None:
        if hasattr(os, "memfd_create"):
            self.fd = os.memfd_create("mlopsctl-helper", os.MFD_CLOEXEC)
        else:  # pragma: no cover - not Linux
            import tempfile

            with tempfile.TemporaryFile() as f:
                self.fd = os.dup(f.fileno())
        _open.add(self.fd)
        self.offset = 0
        """How far the parent has read."""
        self.buffer = b""
        """A line not ended yet: it waits for its end."""
        self.broken = False
        """Something unreadable arrived: nothing from it on is taken."""

    # -- in the child
    def send(self, item: Any) -> None:
        data = json.dumps(item, separators=(",", ":")).encode() + b"\n"
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    # -- in the parent
    def received(self) -> list[Any]:
        """The lines ended since the last call, parsed (none once one was unreadable)."""
        if self.broken:
            return []
        try:
            size = os.fstat(self.fd).st_size  # asked first: a read allocates what it may read
            data = os.pread(self.fd, size - self.offset, self.offset) if size > self.offset else b""
        except OSError:
            self.broken, self.buffer = True, b""
            return []
        if not data:
            return []
        self.offset += len(data)
        lines = (self.buffer + data).split(b"\n")
        self.buffer = lines.pop()
        out = []
        for line in lines:
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                self.broken, self.buffer = True, b""
                break
        return out

    def close(self) -> None:
        self.broken = True  # its number may soon be another file's: never read again
        if self.fd in _open:
            _open.discard(self.fd)
            try:
                os.close(self.fd)
            except OSError:
                pass


_open: set[int] = set()
"""The descriptors of the channels open in this process: a child forked later keeps them (the read
worker goes on taking in what the facts helper says)."""


def cores() -> int:
    """The cores this process may run on: a child beside the command is worth it with two or more."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def threads() -> int:
    import threading

    return threading.active_count()


def fork(work: Callable[[], None], keep: tuple[int, ...]) -> int | None:
    """Fork a child that runs ``work()`` and exits; its pid, or None when none could be forked.

    Never from a process with threads (a lock one of them holds would stay held in the child). The
    child keeps only the descriptors in ``keep``, those of every open channel and 0-2, dies at once on Ctrl-C, and ends with
    ``os._exit``: no exit handler of the command's runs in it.
    """
    if threads() > 1:
        return None
    import gc

    gc.freeze()  # what exists now is never collected (a collection would copy each page it visits)
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:
        code = 1
        try:
            last = 3
            for fd in sorted({*keep, *_open}):
                os.closerange(last, fd)
                last = fd + 1
            os.closerange(last, 1 << 16)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            work()
            code = 0
        except BaseException:  # noqa: BLE001, S110 - the command does itself whatever the child did not say
            pass
        finally:
            os._exit(code)
    return pid


def reap(pid: int) -> None:
    """End the child ``pid`` if it still runs, and reap it (its CPU time is then counted as ours)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError, OSError):
        pass
