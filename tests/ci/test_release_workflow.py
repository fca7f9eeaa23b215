"""The project's own release workflow: it is what makes the scaffold's default `ci.install`
(`mlopsctl==<version>`) installable, so it is held to the same checks as generated workflows."""

from __future__ import annotations

from pathlib import Path

from mlopsctl import __version__
from tests.ci.workflow_checks import lint

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ".github/workflows/release.yml"


def test_release_workflow_passes_the_checkers() -> None:
    lint(ROOT, [RELEASE])


def test_release_publishes_with_trusted_publishing_only() -> None:
    text = (ROOT / RELEASE).read_text()
    assert "id-token: write" in text and "environment:" in text
    assert "password" not in text and "PYPI_API_TOKEN" not in text
    assert 'tags: ["v*"]' in text


def test_scaffold_default_install_is_the_version_this_workflow_releases() -> None:
    template = (ROOT / "templates/scaffold/_common/mlops.yaml.j2").read_text()
    assert '("mlopsctl==" ~ version)' in template
    assert (ROOT / "mlopsctl/__init__.py").read_text().count(f'__version__ = "{__version__}"') == 1
