"""The plan memo of a project that serves models: its reads of the Docker engine are probes, so a
plan with nothing moved is reused, and anything moved in the engine is seen.

A real engine, a real image and real containers (``mlopsctl apply`` of one served model).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import run_mlopsctl
from tests.serving.serving_repo import base_image, cleanup, free_ports, new_repo, unique_project

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ON = {"MLOPSCTL_PLAN_MEMO": "on"}
OFF = {"MLOPSCTL_PLAN_MEMO": "off"}


def docker(*args: str) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip()


def plan(root: Path, env: dict[str, str]) -> tuple[int, str, str]:
    proc = run_mlopsctl(["--debug", "plan"], root, env=env)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    project = unique_project()
    [port] = free_ports(1)
    root = new_repo(tmp_path_factory.mktemp("memo-served"), project=project, base=base_image(),
                    envs={"staging": port}, serve={"staging": {"version": "latest"}})
    try:
        proc = run_mlopsctl(["apply", "--auto-approve"], root, env=OFF)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        yield root, f"mlopsctl-{project}-iris-staging"
    finally:
        cleanup(project)


def reused(root: Path) -> str:
    """Plan twice with the memo: the second reuses the first and says the same."""
    time.sleep(0.1)  # past one timestamp tick of the last write
    rc, first, _ = plan(root, ON)
    rc2, again, err = plan(root, ON)
    assert rc == rc2 == 0 and "plan memo: reused" in err, err
    assert again == first
    return again


def computed_alike(root: Path) -> str:
    """The memo's plan equals the one computed without it, and it was not reused."""
    rc_on, on, err_on = plan(root, ON)
    rc_off, off, _ = plan(root, OFF)
    assert (rc_on, on) == (rc_off, off)
    assert "plan memo: reused" not in err_on, err_on
    return on


def wait_running(name: str) -> None:
    for _ in range(60):
        if docker("inspect", "-f", "{{.State.Status}}", name) == "running":
            return
        time.sleep(0.5)
    raise AssertionError(f"{name} did not start")


def test_a_served_projects_plan_is_reused_and_sees_the_engine_move(served: tuple[Path, str]) -> None:
    root, name = served
    assert "No changes." in reused(root)

    docker("stop", "-t", "1", f"{name}-a")  # the server stopped by hand
    assert "container stopped by hand" in computed_alike(root)
    docker("start", f"{name}-a")
    wait_running(f"{name}-a")

    docker("stop", "-t", "1", name)  # the front stopped by hand
    assert "stopped by hand: start it again" in computed_alike(root)
    docker("start", name)
    wait_running(name)
    for _ in range(30):  # a started server is "starting" until its first health check
        if "No changes." in computed_alike(root):
            break
        time.sleep(1)
    assert "No changes." in reused(root)

    image = docker("inspect", "-f", "{{.Image}}", f"{name}-a")
    docker("tag", image, f"{name}:tagged-by-hand")  # the engine's image list answers otherwise
    computed_alike(root)


def test_a_served_models_spec_edit_takes_what_it_can_and_equals_the_computed_plan(served: tuple[Path, str]) -> None:
    root, _ = served
    reused(root)
    spec = root / "models" / "iris.yaml"
    text = spec.read_text()
    try:
        spec.write_text(re.sub(r"n_estimators: (\d+)", lambda m: f"n_estimators: {int(m.group(1)) + 7}", text, count=1))
        time.sleep(0.1)
        # Verify mode: the project-wide changes are taken, iris's image and deployment read again,
        # and the whole plan computed too; any difference fails the plan.
        rc, out, err = plan(root, {"MLOPSCTL_PLAN_MEMO": "verify"})
        assert rc in (0, 1) and "differ" not in err, out + err
        taken = re.search(r"plan memo: (\d+) of (\d+) changes taken from the kept plan", err)
        assert taken and 0 < int(taken.group(1)) < int(taken.group(2)), err
        assert "stage.iris.train" in out  # the edit retrains
    finally:
        spec.write_text(text)
