"""Where the project's own templates/ and schemas/ live (beside the package)."""

from __future__ import annotations

from pathlib import Path

_HOME = Path(__file__).resolve().parents[2]

TEMPLATES = _HOME / "templates"
SCHEMAS = _HOME / "schemas"
