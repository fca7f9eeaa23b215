"""Repository templates shared by the registry, model/registry provider and ``models`` command tests.

Building a Git + DVC repository with a trained, tracked candidate takes several seconds of
``dvc`` start-up, so each test module builds it once (``build_template``) and copies it for
each test (``copy_template``). Test modules wire these into two fixtures, ``reg_template``
(module scope) and ``reg_repo``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.registry.registry_builders import registry_repo, track, train_candidate


def build_template(base: Path) -> Path:
    """``base/repo``: ``iris`` served as latest in staging, a candidate trained, tracked, committed."""
    root = registry_repo(base, model={"serve": {"staging": {"version": "latest"}}})
    train_candidate(root, columns=2)
    track(root)
    return base


def copy_template(template: Path, tmp_path: Path) -> Path:
    """A private copy of the template repository (and its sibling DVC remote); returns the repo.

    Nothing is registered yet. Copied under ``tmp_path/reg``: the shared ``repo`` fixture
    makes ``tmp_path/repo``.
    """
    base = tmp_path / "reg"
    shutil.copytree(template / "repo", base / "repo", symlinks=True)
    shutil.copytree(template / "dvc-remote", base / "dvc-remote")
    return base / "repo"


@pytest.fixture(scope="module")
def reg_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per test module: training a candidate is the slow part."""
    return build_template(tmp_path_factory.mktemp("reg-template"))


@pytest.fixture
def reg_repo(reg_template: Path, tmp_path: Path) -> Path:
    """A Git + DVC repository with a trained, tracked ``iris`` candidate; nothing registered."""
    return copy_template(reg_template, tmp_path)
