"""Fixtures for the rendered workflows (helpers live in workflow_checks.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ci.workflow_checks import lint


@pytest.fixture
def lint_workflows() -> Callable[[Path, list[str]], None]:
    """``lint_workflows(root, paths)``: actionlint, zizmor and check-jsonschema must find nothing."""
    return lint
