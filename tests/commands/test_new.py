"""``mlopsctl new`` through the CLI: in-process (click's runner) and as a real subprocess."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core.provider import PROVIDERS


def _missing_providers() -> list[str]:
    return [kind for kind, target in PROVIDERS.items() if importlib.util.find_spec(target.partition(":")[0]) is None]


def test_new_in_process(cli: Any, tmp_path: Path) -> None:
    result = cli("new", "demo", repo=tmp_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "demo"
    assert (root / "models/iris.yaml").is_file()
    assert "Created classifier repository demo (project demo, model iris)" in result.stdout
    assert "data/iris.csv  (git-ignored: DVC tracks it on apply)" in result.stdout
    assert "  cd demo\n  mlopsctl plan\n" in result.stdout


def test_new_picks_ports_nothing_listens_on(cli: Any, tmp_path: Path) -> None:
    import socket

    import yaml

    from mlopsctl.serving.ports import free_ports

    first = free_ports(1, 8101)[0]
    holder = socket.socket()
    holder.bind(("127.0.0.1", first))
    holder.listen()
    try:
        result = cli("new", "busy", repo=tmp_path)
    finally:
        holder.close()
    assert result.exit_code == 0, result.output
    envs = yaml.safe_load((tmp_path / "busy/mlops.yaml").read_text())["environments"]
    ports = [envs["staging"]["port"], envs["production"]["port"]]
    assert first not in ports and ports[0] != ports[1] and min(ports) > first
    assert f"staging on 127.0.0.1:{ports[0]}, production on 127.0.0.1:{ports[1]}" in result.stdout


def test_new_regressor_with_name(cli: Any, tmp_path: Path) -> None:
    result = cli("new", str(tmp_path / "reg"), "--template", "regressor", "--name", "progress", repo=tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reg/models/progress.yaml").is_file()
    assert (tmp_path / "reg/data/progress.csv").is_file()


def test_new_refuses_non_empty_path(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy/keep.txt").write_text("mine")
    result = cli("new", "busy", repo=tmp_path)
    assert result.exit_code == 1
    assert "busy is not empty (keep.txt)" in result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["keep.txt"]


def test_new_rejects_unknown_template(cli: Any, tmp_path: Path) -> None:
    result = cli("new", "x", "--template", "forecaster", repo=tmp_path)
    assert result.exit_code == 1
    assert "forecaster" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_new_subprocess_then_validate_and_plan(run_mlopsctl: Any, tmp_path: Path) -> None:
    made = run_mlopsctl(["new", "demo", "--template", "regressor"], tmp_path)
    assert made.returncode == 0, made.stderr
    root = tmp_path / "demo"
    log = subprocess.run(["git", "log", "--oneline"], cwd=root, capture_output=True, text=True, check=True).stdout
    assert len(log.splitlines()) == 1
    checked = run_mlopsctl(["validate"], root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    missing = _missing_providers()
    if missing:
        pytest.skip(f"plan needs every provider; not present yet: {', '.join(missing)}")
    # A fresh repository has work to do (data, training, files): exit 2 with --detailed-exitcode.
    planned = run_mlopsctl(["plan", "--detailed-exitcode"], root)
    assert planned.returncode == 2, planned.stdout + planned.stderr
    assert "Plan: " in planned.stdout


def test_new_subprocess_error(run_mlopsctl: Any, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = run_mlopsctl(["new", "file"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert "exists and is not a directory" in result.stderr
