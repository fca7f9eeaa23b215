"""The package's templates compiled by Jinja ahead of time, written by ``scripts/make_generated.py``.

One module per template of ``templates/`` (``pipeline/params.yaml.j2`` is ``pipeline_params_yaml_j2``):
Jinja's Python for it, with the key of what it was compiled from (:func:`mlopsctl.files.templating.compile_key`:
Jinja's version, the environment's settings, the template's name and source). A fresh machine, as every CI
runner, then renders without compiling templates (a tenth of a small repository's first plan). A module
whose key differs from the template as it is now is never used: the template is compiled from its source.
Never edited by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def module_name(template: str) -> str:
    """The module of a template's name (``docker/Dockerfile.j2`` -> ``docker_Dockerfile_j2``)."""
    return re.sub(r"[^A-Za-z0-9]", "_", template)
