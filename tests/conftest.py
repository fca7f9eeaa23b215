"""Shared fixtures: real temporary repos, the CLI in-process and as a subprocess, and markers.

Builders live in ``tests/builders.py`` (plain functions, also used by benchmarks); this file
only wires them into pytest. Every test runs with a fixed Git identity and an empty HOME so a
developer's own git/DVC configuration cannot leak in, and a bare CI machine can commit.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

# Fixtures shared across folders: the registry's trained-candidate repository (reg_template,
# reg_repo) and the monitoring's served, profiled repository (served_template, served).
pytest_plugins = ["tests.registry.registry_fixtures", "tests.monitoring.monitor_builders", "tests.s3_server"]

from tests.builders import GIT_ENV, make_repo
from tests.builders import run_mlopsctl as _run_mlopsctl

if TYPE_CHECKING:
    from click.testing import Result

# --------------------------------------------------------------------------- environment


@pytest.fixture(autouse=True, scope="session")
def _isolated_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in GIT_ENV.items():
            if key.endswith("_DATE"):
                continue  # fixed dates would make every apply look equally old
            mp.setenv(key, value)
        mp.setenv("HOME", str(home))
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        mp.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        mp.setenv("MLOPSCTL_LOG_DIR", str(tmp_path_factory.mktemp("crash-logs")))
        mp.setenv("DVC_NO_ANALYTICS", "1")  # no phoning home from tests
        # Every plan that reuses a memo is computed as well and must be equal (core/planmemo.py).
        mp.setenv("MLOPSCTL_PLAN_MEMO", "verify")
        mp.delenv("MLOPSCTL_DEBUG", raising=False)
        mp.delenv("GITHUB_ACTIONS", raising=False)  # CI runs us too; keep output identical
        yield


# --------------------------------------------------------------------------- repos


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed repository with valid specs for one model (``iris``)."""
    return make_repo(tmp_path)


# --------------------------------------------------------------------------- the CLI


class CliInvoker(Protocol):
    def __call__(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None, repo: Path | None = None
    ) -> Result: ...


@pytest.fixture
def cli(repo: Path) -> CliInvoker:
    """Run ``mlopsctl -C <repo> ARGS`` in-process through the real error handler.

    Returns click's ``Result`` (``exit_code``, ``stdout``, ``stderr``, ``output``). Pass
    ``repo=`` to run in another directory. Unexpected exceptions surface as exit 1 with the
    crash-log path in stderr, exactly as users see them.
    """
    import click
    from click.testing import CliRunner

    from mlopsctl.cli import cli as group
    from mlopsctl.commands._errors import run

    class _Edge(click.Command):
        # CliRunner calls .main(); route it through the same edge handler as the console script.
        def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, **_: Any) -> Any:  # type: ignore[override]
            return run(group, list(args or ()))

    edge = _Edge("mlopsctl")
    default_repo = repo

    def invoke(
        *args: str, input: str | None = None, env: dict[str, str] | None = None, repo: Path | None = None
    ) -> Result:
        target = repo or default_repo
        return CliRunner().invoke(edge, ["-C", str(target), *args], input=input, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def run_mlopsctl() -> Any:
    """``run_mlopsctl(args, cwd, *, input=None, env=None, timeout=600) -> CompletedProcess``.

    The real console script of this environment in a subprocess (stdin is empty unless
    ``input`` is given, so commands see no TTY, as in CI).
    """
    return _run_mlopsctl


# --------------------------------------------------------------------------- Docker engine


@functools.lru_cache(maxsize=1)
def engine_problem() -> str | None:
    """None when a Docker engine answers; otherwise why not (said once per session)."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    try:
        proc = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        return "no Docker engine: " + (detail[-1] if detail else f"`docker info` exited {proc.returncode}")
    return None


def require_engine() -> None:
    """Skip (or, with MLOPSCTL_REQUIRE_ENGINE set, fail) when no Docker engine answers."""
    problem = engine_problem()
    if problem is None:
        return
    if os.environ.get("MLOPSCTL_REQUIRE_ENGINE"):
        pytest.fail(
            f"{problem} (MLOPSCTL_REQUIRE_ENGINE is set, so this fails instead of skipping; run scripts/engine-up.sh)",
            pytrace=False,
        )
    pytest.skip(problem)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is not None:
        require_engine()


@pytest.fixture
def docker_client() -> Iterator[Any]:
    """A docker-py client for tests marked ``docker`` (imported only here: docker is heavy)."""
    require_engine()
    import docker

    client = docker.from_env()
    yield client
    client.close()
