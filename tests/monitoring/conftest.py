"""Monitoring tests: one served repository per module (see monitor_builders.py), copied per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monitor_builders import build_served, copy_served


@pytest.fixture(scope="module")
def served_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_served(tmp_path_factory.mktemp("served-template"))


@pytest.fixture
def served(served_template: Path, tmp_path: Path) -> Path:
    return copy_served(served_template, tmp_path)


@pytest.fixture
def drift_cli(cli, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The CLI with ``drift`` and ``retrain`` registered (as the lead registers them in cli.COMMANDS)."""
    from mlopsctl import cli as cli_module

    monkeypatch.setitem(cli_module.COMMANDS, "drift", ("mlopsctl.commands.drift:drift", "Check drift."))
    monkeypatch.setitem(cli_module.COMMANDS, "retrain", ("mlopsctl.commands.retrain:retrain", "Propose retraining."))
    return cli
