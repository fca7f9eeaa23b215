"""Registry tests: real Git + DVC repositories (see registry_fixtures.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry_fixtures import build_template, copy_template


@pytest.fixture(scope="module")
def reg_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("reg-template"))


@pytest.fixture
def reg_repo(reg_template: Path, tmp_path: Path) -> Path:
    return copy_template(reg_template, tmp_path)
