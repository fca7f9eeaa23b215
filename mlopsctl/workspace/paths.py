"""Where the project's own templates/ and schemas/ live.

They sit at the top of the repository. A built wheel carries them inside the package, as ``mlopsctl/_data/``
(pyproject.toml maps the folders there); a source checkout and an editable install read the top-level folders.
Both are real directories: Jinja's FileSystemLoader and the spec cache's stat calls need files on disk.
"""

from __future__ import annotations

from pathlib import Path

# The package's own folder, however deep this module sits inside it.
_PACKAGE = Path(__file__).resolve().parents[__name__.count(".") - 1]


def _home(name: str) -> Path:
    """``mlopsctl/_data/<name>`` in an installed wheel, else ``<name>/`` beside the package (a checkout)."""
    packaged = _PACKAGE / "_data" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name


TEMPLATES = _home("templates")
SCHEMAS = _home("schemas")
