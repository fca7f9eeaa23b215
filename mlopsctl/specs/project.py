"""The Project spec (``mlops.yaml``) as typed, frozen objects with every default decided here.

Built from the schema-valid plain data of :class:`mlopsctl.specs.model.SpecDoc`; the document
keeps the data and the key locations (``doc.loc("images.base")``) for messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_REMOTE_NAME = "local"
DEFAULT_BASE_IMAGE = "python:3.11-slim"
"""A public base; machines that reach no registry use a local one (scripts/engine-up.sh)."""
DEFAULT_CI_PYTHON = "3.11"
DEFAULT_BRANCH = "main"
DEFAULT_RUNS_ON = "ubuntu-latest"


def mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping, else empty (``key: null`` and absent read alike)."""
    return value if isinstance(value, dict) else {}


def opt_str(value: Any) -> str | None:
    """A non-empty value as a string, else None."""
    return str(value) if value not in (None, "") else None


@dataclass(frozen=True)
class EnvironmentSpec:
    """One environment under ``environments``."""

    name: str
    port: int | None = None
    """127.0.0.1 port its deployments are published on; None: chosen by the deployment provider."""
    description: str | None = None
    protected: bool = False
    """Its deployments are deleted only with ``--allow-destroy-protected``."""


@dataclass(frozen=True)
class RemoteSpec:
    """``data.remote``: the DVC remote data and artifacts are pushed to."""

    name: str = DEFAULT_REMOTE_NAME
    url: str | None = None
    """None: the default, a folder beside the repository (the data provider decides where)."""


@dataclass(frozen=True)
class ImagesSpec:
    """``images``: how serving images are built."""

    base: str = DEFAULT_BASE_IMAGE
    ca_certificates: tuple[str, ...] = ()
    """Host paths of extra CA certificates copied into builds."""
    repository: str | None = None
    """Container registry prefix images are pushed to; None: images stay local."""


@dataclass(frozen=True)
class CISpec:
    """``ci``: settings of the rendered GitHub Actions workflows."""

    python: str = DEFAULT_CI_PYTHON
    install: str | None = None
    """What the workflows pip install; None: this mlopsctl's own version."""
    default_branch: str = DEFAULT_BRANCH
    runs_on: str | tuple[str, ...] = DEFAULT_RUNS_ON
    """One runner label, or several."""


@dataclass(frozen=True)
class ProjectSpec:
    """``mlops.yaml``, defaults filled in."""

    name: str
    description: str | None = None
    environments: dict[str, EnvironmentSpec] = field(default_factory=dict)
    """In spec order."""
    remote: RemoteSpec = field(default_factory=RemoteSpec)
    registry_type: str = "git"
    images: ImagesSpec = field(default_factory=ImagesSpec)
    ci: CISpec = field(default_factory=CISpec)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ProjectSpec:
        """The typed view of schema-valid data (tolerant of missing keys, as tests build partial specs)."""
        envs = {
            str(name): EnvironmentSpec(
                name=str(name),
                port=conf.get("port") if isinstance(conf.get("port"), int) else None,
                description=opt_str(conf.get("description")),
                protected=conf.get("protected") is True,
            )
            for name, conf in ((n, mapping(c)) for n, c in mapping(data.get("environments")).items())
        }
        remote = mapping(mapping(data.get("data")).get("remote"))
        images = mapping(data.get("images"))
        ci = mapping(data.get("ci"))
        runs_on = ci.get("runs_on")
        return cls(
            name=str(data.get("name") or ""),
            description=opt_str(data.get("description")),
            environments=envs,
            remote=RemoteSpec(name=str(remote.get("name") or DEFAULT_REMOTE_NAME), url=opt_str(remote.get("url"))),
            registry_type=str(mapping(data.get("registry")).get("type") or "git"),
            images=ImagesSpec(
                base=str(images.get("base") or DEFAULT_BASE_IMAGE),
                ca_certificates=tuple(str(p) for p in images.get("ca_certificates") or ()),
                repository=opt_str(images.get("repository")),
            ),
            ci=CISpec(
                python=str(ci.get("python") or DEFAULT_CI_PYTHON),
                install=opt_str(ci.get("install")),
                default_branch=str(ci.get("default_branch") or DEFAULT_BRANCH),
                runs_on=tuple(str(v) for v in runs_on) if isinstance(runs_on, list) and runs_on
                else str(runs_on or DEFAULT_RUNS_ON),
            ),
        )
