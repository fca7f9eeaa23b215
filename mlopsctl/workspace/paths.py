"""Where the project's own templates/ and schemas/ live, and where a repository's root is.

They sit at the top of the repository. A built wheel carries them inside the package, as ``mlopsctl/_data/``
(pyproject.toml maps the folders there); a source checkout and an editable install read the top-level folders.
Both are real directories: Jinja's FileSystemLoader and the spec cache's stat calls need files on disk.
"""

from __future__ import annotations

import os
from pathlib import Path

# The package's own folder, however deep this module sits inside it.
_PACKAGE = Path(__file__).resolve().parents[__name__.count(".") - 1]


def _home(name: str) -> Path:
    """``mlopsctl/_data/<name>`` in an installed wheel, else ``<name>/`` beside the package (a checkout)."""
    packaged = _PACKAGE / "_data" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name


TEMPLATES = _home("templates")
SCHEMAS = _home("schemas")


PROJECT_FILE = "mlops.yaml"


def find_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` that holds ``mlops.yaml`` (light to import: a
    reused plan finds its memo by it without loading the specs)."""
    start = Path(start).resolve()
    from mlopsctl.errors import MlopsError

    for d in (start, *start.parents):
        if (d / PROJECT_FILE).is_file():
            return d
        if os.path.lexists(d / PROJECT_FILE):
            raise MlopsError(f"{d / PROJECT_FILE}: not a regular file (a folder, a named pipe or a broken link); "
                             "the project's spec must be a YAML file")

    raise MlopsError(f"no {PROJECT_FILE} in {start} or any parent directory; create one with `mlopsctl new PATH`")
