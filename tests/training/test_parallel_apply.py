"""Apply trains stages side by side in long-lived workers and records them as ``dvc repro`` does.

Checked against DVC itself: afterwards ``dvc status`` is clean, ``dvc repro`` runs nothing, and
``dvc commit -f`` (DVC rewriting every record) leaves ``dvc.lock`` byte for byte as we wrote it.
A worker killed mid-training fails its stage alone; Ctrl-C stops every worker and exits 130.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.builders import git, interruptible, make_repo, mlopsctl_command, model_spec, run_mlopsctl, to_yaml

pytestmark = pytest.mark.slow


def _dvc(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    return subprocess.run([str(Path(bindir) / "dvc"), *args], cwd=repo, capture_output=True, text=True, env=env,
                          check=False)


def _workers(repo: Path) -> list[int]:
    """Pids of live training workers of this repository (their command line names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().split(") ")[-1][:1]
        except OSError:
            continue
        if b"mlopsctl.training.worker" in cmd and str(repo).encode() in cmd and state != "Z":
            found.append(int(entry.name))
    return found


def _crashing(name: str, flag: Path) -> str:
    # Kills its own worker (the shell's parent) the first time, trains normally afterwards.
    spec = model_spec(name, train={"cmd": f"if [ -f {flag} ]; then rm {flag}; kill -9 $PPID; fi; mlopsctl train {name}"})
    return to_yaml(spec)


def test_parallel_apply_records_what_dvc_records(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, models=("a", "b", "c"))
    applied = run_mlopsctl(["apply", "--auto-approve", "--parallelism", "2"], repo, timeout=900)
    assert applied.returncode == 0, applied.stderr[-3000:]
    assert "dvc repro" not in applied.stderr  # one worker per slot, not one DVC process per stage
    assert _workers(repo) == []  # stopped when apply ended

    status = _dvc(repo, "status")
    assert "Data and pipelines are up to date" in status.stdout, status.stdout + status.stderr
    cloud = _dvc(repo, "status", "--cloud")
    assert "Cache and remote 'local' are in sync" in cloud.stdout, cloud.stdout + cloud.stderr
    repro = _dvc(repo, "repro")
    assert repro.returncode == 0 and "Running stage" not in repro.stdout, repro.stdout
    lock = (repo / "dvc.lock").read_text()
    assert _dvc(repo, "commit", "-f").returncode == 0
    assert (repo / "dvc.lock").read_text() == lock  # DVC's own dump of the same records
    assert sorted((repo / "artifacts" / ".gitignore").read_text().split()) == ["/a", "/b", "/c"]

    tags = git(repo, "tag", "--list").split()
    assert sorted(tags) == ["a@v1.0.0", "b@v1.0.0", "c@v1.0.0"]
    again = run_mlopsctl(["plan", "--detailed-exitcode"], repo)
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_killed_worker_fails_its_stage_alone(tmp_path: Path) -> None:
    flag = tmp_path / "crash-once"
    flag.write_text("")
    repo = make_repo(tmp_path, models=("a", "b", "c"), files={"models/b.yaml": _crashing("b", flag)})
    applied = run_mlopsctl(["apply", "--auto-approve", "--parallelism", "2"], repo, timeout=900)
    assert applied.returncode == 1
    assert "stage.b.train: the training worker" in applied.stderr and "killed by signal 9" in applied.stderr
    assert ".mlopsctl/logs/stages/train_b.log" in applied.stderr
    assert "model.b: not attempted" in applied.stderr
    recorded = (repo / "dvc.lock").read_text()
    assert "train_a:" in recorded and "train_c:" in recorded and "train_b:" not in recorded
    assert sorted(git(repo, "tag", "--list").split()) == ["a@v1.0.0", "c@v1.0.0"]

    again = run_mlopsctl(["apply", "--auto-approve"], repo, timeout=900)  # the crash was a one-off
    assert again.returncode == 0, again.stderr[-3000:]
    assert "stage.a.train" not in again.stderr  # finished stages are not trained again
    assert "Data and pipelines are up to date" in _dvc(repo, "status").stdout


def test_ctrl_c_stops_every_worker_and_exits_130(tmp_path: Path) -> None:
    slow = {f"models/{m}.yaml": to_yaml(model_spec(m, train={"cmd": f"sleep 60; mlopsctl train {m}"}))
            for m in ("a", "b")}
    repo = make_repo(tmp_path, models=("a", "b"), files=slow)
    proc = subprocess.Popen(interruptible([*mlopsctl_command(), "apply", "--auto-approve", "--parallelism", "2"]),
                            cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    logs = [repo / ".mlopsctl" / "logs" / "stages" / f"train_{m}.log" for m in ("a", "b")]
    deadline = time.monotonic() + 300
    while not all(p.is_file() and "> sleep" in p.read_text() for p in logs):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-3000:]
        time.sleep(0.2)
    assert len(_workers(repo)) == 2
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    assert _workers(repo) == []
    history = [json.loads(line) for line in (repo / ".mlopsctl" / "history.jsonl").read_text().splitlines()]
    assert history[-1]["event"] == "finish" and history[-1]["status"] == "interrupted"
    assert "train_a:" not in (repo / "dvc.lock").read_text() if (repo / "dvc.lock").exists() else True


def test_going_back_to_earlier_params_restores_the_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, models=("a",))
    first = run_mlopsctl(["apply", "--auto-approve"], repo, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    spec = repo / "models" / "a.yaml"
    original = spec.read_text()
    spec.write_text(original.replace("n_estimators: 20", "n_estimators: 25"))
    git(repo, "commit", "-qam", "More trees")
    changed = run_mlopsctl(["apply", "--auto-approve"], repo, timeout=900)
    assert changed.returncode == 0, changed.stderr[-3000:]
    assert "restored from DVC's run cache" not in changed.stderr

    spec.write_text(original)
    git(repo, "commit", "-qam", "Back to 20 trees")
    back = run_mlopsctl(["apply", "--auto-approve"], repo, timeout=900)
    assert back.returncode == 0, back.stderr[-3000:]
    assert "train_a: restored from DVC's run cache" in back.stderr
    log = (repo / ".mlopsctl" / "logs" / "stages" / "train_a.log").read_text()
    assert "is cached - skipping run" in log
    assert "Data and pipelines are up to date" in _dvc(repo, "status").stdout
    assert "equals v1" in back.stdout  # the same model as v1: no third version
    assert sorted(git(repo, "tag", "--list").split()) == ["a@v1.0.0", "a@v2.0.0"]


def test_kill_9_while_stages_train_converges(tmp_path: Path) -> None:
    slow = {f"models/{m}.yaml": to_yaml(model_spec(m, train={"cmd": f"sleep 2; mlopsctl train {m}"}))
            for m in ("a", "b", "c", "d")}
    repo = make_repo(tmp_path, models=("a", "b", "c", "d"), files=slow)
    proc = subprocess.Popen([*mlopsctl_command(), "apply", "--auto-approve", "--parallelism", "2"], cwd=repo,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    lock = repo / "dvc.lock"
    deadline = time.monotonic() + 300
    while not (lock.is_file() and "train_" in lock.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.kill()  # kill -9 with one stage recorded and others training
    proc.wait()
    for _ in range(50):  # the workers get SIGTERM as their parent dies
        if not _workers(repo):
            break
        time.sleep(0.1)
    assert _workers(repo) == []
    recorded = lock.read_text()
    assert recorded.startswith("schema: '2.0'\nstages:\n")  # whole records only

    again = run_mlopsctl(["apply", "--auto-approve"], repo, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Data and pipelines are up to date" in _dvc(repo, "status").stdout
    assert sorted(git(repo, "tag", "--list").split()) == [f"{m}@v1.0.0" for m in ("a", "b", "c", "d")]
    assert _workers(repo) == []  # the workers went with apply


@pytest.mark.parametrize("n", ["0", "257", "100000"])
def test_parallelism_out_of_bounds_is_refused_before_anything_runs(tmp_path: Path, n: str) -> None:
    repo = make_repo(tmp_path)
    before = git(repo, "status", "--porcelain")
    proc = run_mlopsctl(["apply", "--auto-approve", "--parallelism", n], repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # a usage error, as every error here: exit 1
    assert f"{n} is not in the range 1<=x<=256" in proc.stderr and "Traceback" not in proc.stderr
    assert git(repo, "status", "--porcelain") == before and not (repo / "dvc.lock").exists()
