"""The apply lock across real processes: reported with its holder, released by the kernel on kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlopsctl.core.lock import ApplyLock, read_holder, unlock
from mlopsctl.errors import LockError

HOLD = """
import sys, time
from pathlib import Path
from mlopsctl.core.lock import ApplyLock
lock = ApplyLock(Path(sys.argv[1]), "mlopsctl apply")
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def hold_in_child(state_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(state_dir)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_holder_is_told_who_holds_it_and_since_when(tmp_path: Path) -> None:
    proc = hold_in_child(tmp_path)
    try:
        with pytest.raises(LockError) as e:
            ApplyLock(tmp_path, "mlopsctl apply").acquire()
        msg = e.value.message
        assert f"pid {proc.pid}" in msg and "running `mlopsctl apply` since" in msg and "ago" in msg
        assert "mlopsctl unlock" in msg
    finally:
        proc.kill()
        proc.wait()


def test_kill_9_releases_the_lock(tmp_path: Path) -> None:
    proc = hold_in_child(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert read_holder(tmp_path)["pid"] == proc.pid  # the record stays...
    with ApplyLock(tmp_path, "mlopsctl apply"):  # ...but the lock is free
        assert read_holder(tmp_path)["pid"] == os.getpid()
    assert read_holder(tmp_path) is None


def test_lock_timeout_waits_for_the_holder(tmp_path: Path) -> None:
    proc = hold_in_child(tmp_path)

    def finish_soon() -> None:
        time.sleep(0.5)
        proc.kill()

    import threading

    threading.Thread(target=finish_soon).start()
    with ApplyLock(tmp_path, "mlopsctl apply", timeout=10):  # raises LockError if never released
        pass
    proc.wait()


def test_unlock_refuses_a_live_holder_and_clears_a_dead_record(tmp_path: Path) -> None:
    assert unlock(tmp_path) == "No lock to clear."
    proc = hold_in_child(tmp_path)
    try:
        with pytest.raises(LockError, match="held by a running process"):
            unlock(tmp_path)
    finally:
        proc.kill()
        proc.wait()
    assert "Cleared a stale lock record" in unlock(tmp_path)
    assert unlock(tmp_path) == "No apply holds the lock."
