"""The loaded, validated specs as the rest of the engine sees them.

``specs/load.py`` builds these from YAML (with locations); providers and file sets read them
through the typed views (:attr:`SpecDoc.model`, :attr:`Project.settings`), whose defaults are
decided once in :mod:`mlopsctl.specs.model_spec` and :mod:`mlopsctl.specs.project`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from mlopsctl.errors import Location
from mlopsctl.specs.model_spec import ModelSpec
from mlopsctl.specs.project import ProjectSpec


@dataclass(frozen=True)
class SpecDoc:
    """One YAML spec file, validated: plain data plus where each key came from."""

    path: str
    """Repository-relative POSIX path, e.g. ``models/iris.yaml``."""
    data: dict[str, Any]
    """Plain Python data (dicts, lists, scalars), defaults not filled in."""
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Dotted key path (list indexes as numbers, "" for the root) -> (line, column), 1-based."""
    digest: str = ""
    """sha256 of the file's bytes."""

    @cached_property
    def model(self) -> ModelSpec:
        """The typed Model spec of a ``models/*.yaml`` document, defaults filled in (built once)."""
        return ModelSpec.from_data(self.data)

    def loc(self, path: str = "") -> Location:
        """Location of a key path, falling back to the nearest ancestor that has one."""
        p = path
        while True:
            if p in self.lines:
                line, col = self.lines[p]
                return Location(self.path, line, col)
            if not p:
                return Location(self.path, 1, 1)
            p = p.rpartition(".")[0]


@dataclass(frozen=True)
class Project:
    """Everything the specs say: the project and its models, keyed by model name."""

    root: Path
    spec: SpecDoc
    models: dict[str, SpecDoc]

    @cached_property
    def settings(self) -> ProjectSpec:
        """The typed Project spec (``mlops.yaml``), defaults filled in (built once)."""
        return ProjectSpec.from_data(self.spec.data)

    @property
    def name(self) -> str:
        return str(self.spec.data["name"])

    @property
    def environments(self) -> dict[str, dict[str, Any]]:
        """Environment name -> its settings as written; ``settings.environments`` has them typed."""
        envs = self.spec.data.get("environments") or {}
        return {k: dict(v or {}) for k, v in envs.items()}

    def deployment_port(self, model: str, env: str) -> int | None:
        """The 127.0.0.1 port ``model`` is served on in ``env``: ``serve.<env>.port``, else the environment's."""
        doc = self.models.get(model)
        entry = ((doc.data.get("serve") if doc else None) or {}).get(env)
        port = entry.get("port") if isinstance(entry, dict) else None
        if port is None:
            port = self.environments.get(env, {}).get("port")
        return int(port) if isinstance(port, int) and not isinstance(port, bool) else None

    @property
    def spec_digests(self) -> dict[str, str]:
        out = {self.spec.path: self.spec.digest}
        out.update({m.path: m.digest for m in self.models.values()})
        return out
