"""Start-up stays light: the commands people run most must not import the heavy libraries.

Checked on behaviour (which modules the real console script imports, via Python's import-time
log), not on timing, so the test is stable on a loaded CI machine. benchmarks/ has the timings.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.builders import make_repo, mlopsctl_command

ROOT = Path(__file__).resolve().parent.parent

# Top-level packages that cost hundreds of milliseconds to import (git is GitPython).
HEAVY = {"dvc", "dvc_data", "dvc_objects", "scmrepo", "docker", "sklearn", "scipy", "git", "pandas", "numpy"}
# Also kept out of --help / --version: nothing is rendered or validated there.
NOT_FOR_HELP = HEAVY | {"jinja2", "rich", "jsonschema", "ruamel"}


def imported_modules(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the real console script; return the process and the top-level packages it imported."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.run(
        [*mlopsctl_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    mods = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":  # the log's header line
                mods.add(name.split(".")[0])
    assert mods, f"no import-time log (is PYTHONPROFILEIMPORTTIME honoured?):\n{proc.stderr[-2000:]}"
    return proc, mods


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["plan", "--help"]])
def test_help_and_version_import_nothing_heavy(tmp_path: Path, args: list[str]) -> None:
    proc, mods = imported_modules(args, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Usage" in proc.stdout or "version" in proc.stdout
    heavy = NOT_FOR_HELP if args[0] != "plan" else HEAVY
    assert not (mods & heavy), f"`mlopsctl {' '.join(args)}` imported {sorted(mods & heavy)}"


def test_validate_imports_nothing_heavy(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, models=("iris", "wine"))
    proc, mods = imported_modules(["validate"], repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert not (mods & HEAVY), f"`mlopsctl validate` imported {sorted(mods & HEAVY)}"


def test_noop_plan_of_files_imports_nothing_heavy(tmp_path: Path) -> None:
    """A repository whose resources are all files (no models): apply, then a no-op plan."""
    repo = make_repo(tmp_path, models=())
    applied = subprocess.run(
        [*mlopsctl_command(), "apply", "--auto-approve"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr[-3000:]
    proc, mods = imported_modules(["plan", "--detailed-exitcode"], repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "No changes" in proc.stdout
    assert not (mods & HEAVY), f"a no-op `mlopsctl plan` of files imported {sorted(mods & HEAVY)}"


@pytest.mark.parametrize("script", ["scripts/setup.sh", "scripts/test.sh", "scripts/quickstart.sh", ".ci/run"])
def test_scripts_parse_and_are_executable(script: str) -> None:
    path = ROOT / script
    assert path.exists(), f"{script} is missing"
    assert os.access(path, os.X_OK), f"{script} is not executable"
    check = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    text = path.read_text()
    assert "set -euo pipefail" in text
