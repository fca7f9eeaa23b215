"""The core loop end to end through the real console script, on real Git repositories.

These tests stay on the `file` kind (`--target file`) so they exercise the engine - plan,
saved plans, confirmation, the lock, crash recovery - without training or containers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.builders import interruptible, mlopsctl_command, run_mlopsctl
from tests.terminal import run_in_pty

# Real DVC runs, training or Git registries in every test: left out of the fast suite.
pytestmark = pytest.mark.slow


T = ("--target", "file")


def history(repo: Path) -> list[dict]:
    path = repo / ".mlopsctl" / "history.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def managed_files(repo: Path) -> dict[str, str]:
    found = {}
    for p in repo.rglob("*"):
        if p.is_file() and ".git" not in p.parts and ".mlopsctl" not in p.parts:
            text = p.read_text(errors="replace")
            if "mlopsctl-digest:" in text:
                found[str(p.relative_to(repo))] = text
    return found


def test_plan_apply_plan_converges(repo: Path) -> None:
    first = run_mlopsctl(["plan", "--detailed-exitcode", *T], repo)
    assert first.returncode == 2, first.stderr
    assert "to add" in first.stdout
    applied = run_mlopsctl(["apply", "--auto-approve", *T], repo)
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete" in applied.stderr
    assert "Review and commit what changed in the working tree (.github/workflows/" in applied.stderr
    files = managed_files(repo)
    assert files, "apply wrote no managed file"
    again = run_mlopsctl(["plan", "--detailed-exitcode", *T], repo)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout
    assert run_mlopsctl(["apply", "--auto-approve", *T], repo).returncode == 0
    assert managed_files(repo) == files


def test_json_plan_is_alone_on_stdout(repo: Path) -> None:
    out = run_mlopsctl(["plan", "--format", "json", *T], repo)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["format_version"]
    change = doc["resource_changes"][0]
    assert change["type"] == "file" and change["change"]["actions"] == ["create"]
    assert change["reasons"]


def test_apply_without_a_terminal_needs_auto_approve(repo: Path) -> None:
    out = run_mlopsctl(["apply", *T], repo)
    assert out.returncode == 1
    assert "--auto-approve" in out.stderr
    assert not managed_files(repo)


def test_saved_plan_applies_exactly_and_goes_stale(repo: Path) -> None:
    saved = run_mlopsctl(["plan", "-o", "../plan.json", *T], repo)
    assert saved.returncode == 0, saved.stderr
    shown = run_mlopsctl(["show", "../plan.json"], repo)
    assert shown.returncode == 0 and "to add" in shown.stdout
    spec = repo / "mlops.yaml"
    spec.write_text(spec.read_text() + "\n# a comment moves the digest\n")
    stale = run_mlopsctl(["apply", "../plan.json"], repo)
    assert stale.returncode == 1
    assert "stale" in stale.stderr and "mlops.yaml changed" in stale.stderr
    assert not managed_files(repo)


def test_kill_9_mid_apply_then_apply_converges(repo: Path) -> None:
    proc = subprocess.Popen(
        [*mlopsctl_command(), "apply", "--auto-approve", *T], cwd=repo,
        env={**os.environ, "MLOPSCTL_PAUSE_AFTER_STEPS": "1"},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not any(r.get("event") == "step" for r in history(repo)):
        assert time.monotonic() < deadline and proc.poll() is None, "apply never recorded a step"
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    recs = history(repo)
    assert [r["event"] for r in recs] == ["start", "step"]  # killed before finishing
    second = run_mlopsctl(["apply", "--auto-approve", *T], repo)  # the lock died with it
    assert second.returncode == 0, second.stderr
    assert run_mlopsctl(["plan", "--detailed-exitcode", *T], repo).returncode == 0
    first_step = recs[1]["address"]
    redone = [r["address"] for r in history(repo)[2:] if r.get("event") == "step"]
    assert first_step not in redone  # a finished step is not done twice


def test_ctrl_c_exits_130_and_apply_converges(repo: Path) -> None:
    proc = subprocess.Popen(
        interruptible([*mlopsctl_command(), "apply", "--auto-approve", *T]), cwd=repo,
        env={**os.environ, "MLOPSCTL_PAUSE_AFTER_STEPS": "1"},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not any(r.get("event") == "step" for r in history(repo)):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Interrupted" in err and "Traceback" not in err
    assert history(repo)[-1]["status"] == "interrupted"
    assert run_mlopsctl(["apply", "--auto-approve", *T], repo).returncode == 0
    assert run_mlopsctl(["plan", "--detailed-exitcode", *T], repo).returncode == 0


def test_second_concurrent_apply_reports_the_holder(repo: Path) -> None:
    proc = subprocess.Popen(
        [*mlopsctl_command(), "apply", "--auto-approve", *T], cwd=repo,
        env={**os.environ, "MLOPSCTL_PAUSE_AFTER_STEPS": "1"},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(r.get("event") == "step" for r in history(repo)):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        second = run_mlopsctl(["apply", "--auto-approve", *T], repo)
        assert second.returncode == 1
        assert f"pid {proc.pid}" in second.stderr and "since" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        proc.kill()
        proc.wait()


def test_destroy_removes_managed_files_and_keeps_user_data(repo: Path) -> None:
    assert run_mlopsctl(["apply", "--auto-approve", *T], repo).returncode == 0
    assert managed_files(repo)
    data = (repo / "data" / "iris.csv").read_bytes()
    out = run_mlopsctl(["destroy", "--auto-approve", "--target", "file"], repo)
    assert out.returncode == 0, out.stderr
    assert "to destroy" in out.stdout
    assert not managed_files(repo)
    assert (repo / "data" / "iris.csv").read_bytes() == data
    assert (repo / "models" / "iris.yaml").exists()


def test_state_list_and_history(repo: Path) -> None:
    assert run_mlopsctl(["apply", "--auto-approve", *T], repo).returncode == 0
    listed = run_mlopsctl(["state", "list"], repo)
    assert listed.returncode == 0 and "file." in listed.stdout and "last create" in listed.stdout
    hist = run_mlopsctl(["state", "history"], repo)
    assert hist.returncode == 0 and "ok" in hist.stdout and "create" in hist.stdout


def test_graph_is_dot(repo: Path) -> None:
    out = run_mlopsctl(["graph"], repo)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("digraph") and '"file.' in out.stdout


def test_outside_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    out = run_mlopsctl(["plan"], tmp_path)
    assert out.returncode == 1
    assert "mlops.yaml" in out.stderr and "Traceback" not in out.stderr


def test_unlock_without_a_lock(repo: Path) -> None:
    out = run_mlopsctl(["unlock"], repo)
    assert out.returncode == 0 and "lock" in out.stdout.lower()


def run_in_terminal(repo: Path, args: list[str], answer: bytes) -> tuple[int, str]:
    """Run mlopsctl with a real pseudo-terminal as stdin/stdout and type ``answer`` at the prompt."""
    return run_in_pty(repo, args, answer=answer, timeout=120)


def test_interactive_apply_asks_and_only_yes_applies(repo: Path) -> None:
    code, out = run_in_terminal(repo, ["apply", *T], b"no\n")
    assert code == 1 and "Do you want to perform these actions?" in out and "cancelled" in out
    assert not managed_files(repo)
    code, out = run_in_terminal(repo, ["apply", *T], b"yes\n")
    assert code == 0, out
    assert "Apply complete" in out and managed_files(repo)
