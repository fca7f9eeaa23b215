"""Managed files for serving a model: ``docker/<model>/{Dockerfile,serve.py,requirements.txt}``.

Only models whose spec has a ``serve`` section get them. The files are the same for every
version of a model (version-specific facts travel in the image's model layer), so they change
only when the specs or mlopsctl's templates do. The image provider builds from exactly the
text rendered here (:func:`render_files`), so what is committed is what is built. The user's
``src/`` package, when a version needs it, is not a managed file: the build context takes it from
the version's commit (``serving/buildctx.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mlopsctl.files import ManagedFile

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.specs.model import Project


# name -> template under templates/
TEMPLATES: dict[str, str] = {
    "Dockerfile": "docker/Dockerfile.j2",
    "serve.py": "docker/serve.py.j2",
    "requirements.txt": "docker/requirements.txt.j2",
    # Request capture for drift checks: the standard-library module mlopsctl.monitoring.capture,
    # copied verbatim (the image must not depend on mlopsctl).
    "capture.py": "docker/capture.py.j2",
}

# The official Python images: python:<version><variant>, e.g. python:3.11-slim-bookworm.
_OFFICIAL_PYTHON = re.compile(
    r"(?:docker\.io/(?:library/)?)?python:(?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+)?)(?P<variant>-[A-Za-z0-9_.-]+)?"
)


def served_models(project: Project) -> list[str]:
    """Models that some environment serves (they get images and deployments), in spec order."""
    return [name for name, doc in project.models.items() if doc.model.serve]


def base_image(project: Project) -> dict[str, Any]:
    """The configured base image and, for the official Python images, how to pin Python.

    With ``python:<X.Y>-slim`` the Dockerfile takes the Python version as a build argument, so
    each model version is served on the Python minor version that trained it; any other base
    is used as is (the serving code warns at start when its Python differs).
    """
    base = project.settings.images.base
    m = _OFFICIAL_PYTHON.fullmatch(base)
    return {
        "base": base,
        "python_default": m.group("version") if m else None,
        "python_variant": (m.group("variant") or "") if m else None,
    }


def capture_source() -> str:
    from mlopsctl.monitoring import capture

    with open(capture.__file__, encoding="utf-8") as f:
        return f.read()


def template_context(project: Project, model: str) -> dict[str, Any]:
    return {"project": project.name, "model": model, "capture_source": capture_source(), **base_image(project)}


def render_files(project: Project, model: str) -> dict[str, str]:
    """The rendered text of each serving file of ``model`` (file name -> text)."""
    from mlopsctl.files.templating import render

    context = template_context(project, model)
    return {name: render(template, context) for name, template in TEMPLATES.items()}


def files(ctx: Context) -> Iterable[ManagedFile]:
    project = ctx.project
    for model in served_models(project):
        doc = project.models[model]
        context = template_context(project, model)
        for name, template in TEMPLATES.items():
            yield ManagedFile(
                path=f"docker/{model}/{name}",
                template=template,
                context=context,
                model=model,
                source=doc.loc("serve"),
            )
