"""The console script's way out (``mlopsctl.cli.entry``): exit handlers run, streams flushed,
the status kept, and a program with a thread still running leaves the usual way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.builders import run_mlopsctl


def _leave(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "leave.py"
    script.write_text(
        "import atexit, sys, threading, time\n"
        "from mlopsctl.cli import _leave\n"
        f"{body}\n",
        encoding="utf-8",
    )
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False)


def test_exit_handlers_run_output_is_flushed_and_the_status_kept(tmp_path: Path) -> None:
    marker = tmp_path / "saved"
    out = _leave(tmp_path, f"atexit.register(lambda: open({str(marker)!r}, 'w').write('kept'))\n"
                           "sys.stdout.write('x' * 100000)\n"  # buffered, not yet written
                           "_leave(3)")
    assert out.returncode == 3
    assert out.stdout == "x" * 100000
    assert marker.read_text() == "kept"


def test_a_message_as_the_code_is_printed_and_exits_1(tmp_path: Path) -> None:
    out = _leave(tmp_path, "_leave('something went wrong')")
    assert out.returncode == 1 and out.stderr.strip() == "something went wrong"
    assert _leave(tmp_path, "_leave(None)").returncode == 0


def test_a_running_thread_is_waited_for(tmp_path: Path) -> None:
    out = _leave(tmp_path, "t = threading.Thread(target=lambda: (time.sleep(0.3), print('thread done', flush=True)))\n"
                           "t.start()\n"
                           "_leave(0)")
    assert out.returncode == 0 and out.stdout == "thread done\n"


def test_the_console_script_keeps_exit_codes_and_output(repo: Path) -> None:
    version = run_mlopsctl(["--version"], repo)
    assert version.returncode == 0 and version.stdout.startswith("mlopsctl, version ")
    changes = run_mlopsctl(["plan", "--detailed-exitcode"], repo)
    assert changes.returncode == 2, changes.stderr
    assert "to add" in changes.stdout  # all of the plan reached the pipe before the process left
    usage = run_mlopsctl(["plan", "--format", "yaml"], repo)
    assert usage.returncode == 1 and "Invalid value for '--format'" in usage.stderr
    module = subprocess.run([sys.executable, "-m", "mlopsctl", "--version"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert module.returncode == 0 and module.stdout == version.stdout
