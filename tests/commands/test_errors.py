"""The one error handler at the edge, seen from the real console script."""

from __future__ import annotations

import re
from pathlib import Path

from tests.builders import run_mlopsctl


def test_unexpected_error_is_one_line_and_a_log_and_debug_shows_the_traceback(repo: Path, tmp_path: Path) -> None:
    # Something no spec can cause: a test-only knob given a value that is not a number.
    logs = tmp_path / "logs"
    env = {"MLOPSCTL_LOG_DIR": str(logs), "MLOPSCTL_PAUSE_AFTER_STEPS": "not-a-number"}
    out = run_mlopsctl(["apply", "--auto-approve", "--target", "file.dvc.yaml"], repo, env=env)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    match = re.search(r"The full traceback is in (\S+) ", out.stderr)
    assert match and "Error: unexpected ValueError" in out.stderr, out.stderr
    log = Path(match.group(1))
    assert log.parent == logs and "Traceback (most recent call last)" in log.read_text()
    env.pop("MLOPSCTL_LOG_DIR")
    debug = run_mlopsctl(["--debug", "apply", "--auto-approve", "--target", "file.params/iris.yaml"], repo, env=env)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


def test_a_state_folder_that_is_a_file_is_a_message(repo: Path) -> None:
    (repo / ".mlopsctl").write_text("not a folder")
    out = run_mlopsctl(["apply", "--auto-approve", "--target", "file"], repo)
    assert out.returncode == 1 and "unexpected" not in out.stderr
    assert out.stderr.startswith("Error: .mlopsctl is a file, but mlopsctl keeps its state in the folder .mlopsctl/")
    assert (repo / ".mlopsctl").read_text() == "not a folder"  # nothing of the user's was touched


def test_usage_error_exits_1_not_2(repo: Path) -> None:
    out = run_mlopsctl(["plan", "--format", "yaml"], repo)
    assert out.returncode == 1  # 2 means "changes present" for --detailed-exitcode
    assert "Invalid value for '--format'" in out.stderr


def test_spec_error_exits_1_with_location_and_annotations_on_github(repo: Path) -> None:
    spec = repo / "models" / "iris.yaml"
    spec.write_text(spec.read_text().replace("estimator:", "estimater:"))
    out = run_mlopsctl(["plan"], repo, env={"GITHUB_ACTIONS": "true"})
    assert out.returncode == 1
    assert "models/iris.yaml:" in out.stderr and "did you mean 'estimator'" in out.stderr
    assert "::error file=models/iris.yaml,line=" in out.stdout
