"""Fixtures for the registry: a real Git + DVC repository with a trained, tracked candidate."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry_builders import registry_repo, track, train_candidate  # noqa: E402


@pytest.fixture
def reg_repo(tmp_path: Path) -> Path:
    """Repository with ``iris`` served as latest in staging; a candidate trained and committed."""
    root = registry_repo(tmp_path, model={"serve": {"staging": {"version": "latest"}}})
    train_candidate(root, columns=2)
    track(root)
    return root
