"""Apply's progress as a person sees it, through the real console script: a live display in a
real pseudo-terminal, plain lines (each event once) without one, DVC's output in the run log,
and a failing step's tail in the error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import terminal
from tests.builders import git, make_repo, run_mlopsctl

pytestmark = pytest.mark.slow
TARGET = ("--target", "model")  # data, pipeline files, training, registration: no engine needed
PHASES = ("waiting for a training worker", "load and check data", "fit RandomForestClassifier on ",
          "pushing to the DVC remote")


def run_in_pty(repo: Path, args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """A terminal as a person has it, outside CI."""
    return terminal.run_in_pty(repo, args, env=env, unset=("CI", "GITHUB_ACTIONS"))


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "\n")


def _log(repo: Path) -> str:
    [log] = (repo / ".mlopsctl" / "logs").glob("apply-*.log")
    return log.read_text()


def test_terminal_gets_one_live_display_and_a_coloured_outcome(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    code, out = run_in_pty(repo, ["apply", "--auto-approve", *TARGET], {"TERM": "xterm-256color", "COLUMNS": "120"})
    assert code == 0, out
    text = _plain(out)
    assert "\x1b[2K" in out  # the live display redraws its lines in place
    assert re.search(r"Applying \d+/\d+", text)
    # The display redraws a few times a second, so a phase shorter than that may never be drawn.
    # The log file has every phase.
    assert "stage.iris.train" in text
    log = _log(repo)
    for phase in PHASES:
        assert phase in log, phase
    assert "✓ stage.iris.train created in" in text and "✓ model.iris created in" in text
    assert "\x1b[1;32mApply complete:" in out
    assert "still running" not in text and "[iris] accuracy" not in text  # the trainer's own output: in the log
    assert "[iris] accuracy" in log


def test_no_color_in_a_terminal_and_no_terminal_get_each_event_once(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    code, out = run_in_pty(repo, ["apply", "--auto-approve", *TARGET], {"TERM": "xterm-256color", "NO_COLOR": "1"})
    assert code == 0, out
    # Nothing in the terminal carries an escape code: not apply's lines, and not the colour reset
    # DVC's colorama would write at exit once DVC is imported in-process.
    assert "\x1b[" not in out and "Applying" in out
    lines = _plain(out).splitlines()
    assert lines.count("stage.iris.train: creating...") == 1
    spec = repo / "models" / "iris.yaml"
    spec.write_text(spec.read_text().replace("n_estimators: 20", "n_estimators: 25"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Retrain with more trees")  # one version per commit

    proc = run_mlopsctl(["apply", "--auto-approve", *TARGET], repo)  # no TTY: as in CI
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("Applying ") and "the last runs of these steps took about" in lines[0]
    assert ".mlopsctl/logs/apply-" in lines[0]
    starts = [line for line in lines if line.endswith("...")]
    assert len(starts) == len(set(starts)) and "stage.iris.train: updating..." in starts
    for phase in PHASES:
        assert sum(phase in line for line in lines) == 1, (phase, proc.stderr)
    assert not any("still running" in line for line in lines)
    assert "\x1b[" not in proc.stderr and "\nApply complete: 3 changed." in proc.stderr


def test_a_failing_step_shows_its_tail_and_names_the_log(tmp_path: Path) -> None:
    script = "import sys\nfor i in range(40):\n    print(f'line {i}')\nprint('the real reason')\nsys.exit(3)\n"
    repo = make_repo(tmp_path, files={"src/boom.py": script},
                     model={"train": {"cmd": "python src/boom.py", "deps": ["src/boom.py"],
                                      "outs": ["artifacts/iris/model.joblib"]}})
    proc = run_mlopsctl(["apply", "--auto-approve", "--target", "stage"], repo)
    assert proc.returncode == 1
    err = proc.stderr
    assert "stage.iris.train: failed after" in err and "Apply failed:" in err
    assert "command `python src/boom.py` of stage train_iris failed (exit 3)" in err and "| the real reason" in err
    assert ".mlopsctl/logs/stages/train_iris.log" in err
    assert "| line 39" in err and "| line 3\n" not in err  # the tail, not the whole output
    match = re.search(r"The full output is in (\.mlopsctl/logs/apply-\w+\.log)", err)
    assert match, err
    assert "line 3" in (repo / match.group(1)).read_text()
