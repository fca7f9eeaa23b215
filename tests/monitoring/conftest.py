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
