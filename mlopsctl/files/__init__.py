"""File sets: the managed files each capability needs, rendered from templates/.

Each entry of :data:`FILE_SETS` is a function ``(ctx) -> Iterable[ManagedFile]``; the file
provider turns every ManagedFile into a ``file.<path>`` resource. A capability that needs files
(workflows, the DVC pipeline, Dockerfiles) adds a module here and one dict entry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.errors import Location


@dataclass(frozen=True)
class ManagedFile:
    path: str
    """Repository-relative POSIX path of the file to write."""
    template: str
    """Template name under templates/, e.g. ``workflows/plan.yml.j2``."""
    context: dict[str, Any] = field(default_factory=dict)
    """Variables for the template (JSON-serialisable)."""
    model: str | None = None
    depends_on: tuple[str, ...] = ()
    source: Location | None = None
    mode: int = 0o644


class Deferred:
    """A template context value made only when the template is rendered (``str(value)``).

    ``key`` is plain JSON data naming everything the text is made from, the code included; the
    render memo's key uses it in place of the text, so a plan whose renders are all remembered
    never makes the text at all (a thousand models' params files, emitted as YAML).
    """

    __slots__ = ("_make", "_text", "key")

    def __init__(self, make: Callable[[], str], key: Any) -> None:
        self._make = make
        self._text: str | None = None
        self.key = key

    def __str__(self) -> str:
        if self._text is None:
            self._text = self._make()
        return self._text


FileSet = Callable[["Context"], Iterable[ManagedFile]]

# name -> "module:function"
FILE_SETS: dict[str, str] = {
    "pipeline": "mlopsctl.pipeline.files:files",
    "serving": "mlopsctl.serving.files:files",
    "workflows": "mlopsctl.ci.workflows:files",
}

# Where managed files may live, so the file provider finds ones no longer desired without
# scanning the whole tree. Globs relative to the repository root.
MANAGED_GLOBS: list[str] = [
    "dvc.yaml",
    "params/*.yaml",
    "docker/*/*",
    ".github/workflows/mlops-*.yml",
]


def file_sets() -> list[tuple[str, FileSet]]:
    """Every registered file set with its name (for messages naming who writes a file)."""
    out: list[tuple[str, FileSet]] = []
    for name, target in FILE_SETS.items():
        module, _, fn = target.partition(":")
        out.append((name, getattr(importlib.import_module(module), fn)))
    return out
