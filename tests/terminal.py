"""Running the real ``mlopsctl`` in a pseudo-terminal, as a person at a terminal does."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.builders import mlopsctl_command

PROMPT = b"Only 'yes' will be accepted"


def run_in_pty(
    repo: Path,
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    unset: Sequence[str] = (),
    answer: bytes | None = None,
    timeout: float = 300,
) -> tuple[int, str]:
    """Run mlopsctl with a real pseudo-terminal as its stdin, stdout and stderr; type ``answer``
    at the confirmation prompt. ``unset`` names environment variables the child must not see."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child becomes mlopsctl
        os.chdir(repo)
        for name in unset:
            os.environ.pop(name, None)
        os.environ.update(env or {})
        exe = mlopsctl_command()
        os.execv(exe[0], [*exe, *args])
    out = b""
    answered = answer is None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            break  # the child closed the terminal
        if not data:
            break
        out += data
        if not answered and PROMPT in out:
            os.write(fd, answer or b"")
            answered = True
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")
