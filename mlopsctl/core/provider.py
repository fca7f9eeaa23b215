"""The one small protocol every resource kind implements, and the registry of kinds.

A provider reads the actual state of its resources from the real system, diffs it against the
desired state into a :class:`Change` with reasons a person understands, and applies or deletes
a change. Adding a kind is adding a module and one entry in :data:`PROVIDERS`; modules are
imported only when their kind is used, so heavy libraries (dvc, docker, sklearn) stay out of
start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.core.model import Change, Resource


class Provider(Protocol):
    kind: str
    reads_alone: bool
    """Whether :meth:`read` may run in another process (:mod:`mlopsctl.core.readers`): it depends
    on nothing but the workspace, the resource and caches of facts, leaves nothing in the run that
    a later step takes, and gives JSON data. Such a provider also has ``before_reads(ctx)``, which
    makes the facts every read of its kind shares (the registry's tags), so that the two
    processes do not both make them."""

    def expand(self, ctx: Context) -> Iterable[Resource]:
        """The desired resources of this kind, from the specs."""

    def existing(self, ctx: Context) -> Iterable[str]:
        """Addresses of resources of this kind that mlopsctl owns and that exist now.

        Used to find what is no longer desired (to delete) and for ``destroy``.
        Must be cheap: no full-tree scans.
        """

    def read(self, address: str, desired: Resource | None, ctx: Context) -> dict[str, Any] | None:
        """Actual state of one resource, read from the real system; None when absent."""

    def diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        """The change that makes actual match desired (desired None: delete), with reasons.

        ``ctx.upstream`` holds the changes already computed for this resource's dependencies,
        so a stage can say it reruns because its data changes.
        """

    def apply(self, change: Change, ctx: Context) -> dict[str, Any] | None:
        """Carry out a create/update/replace; returns facts worth recording (or None)."""

    def delete(self, change: Change, ctx: Context) -> None:
        """Carry out a delete. Never deletes user data."""


# kind -> "module:Class"; order is the order kinds are expanded and listed.
PROVIDERS: dict[str, str] = {
    "file": "mlopsctl.providers.file:FileProvider",
    "dataset": "mlopsctl.providers.dataset:DatasetProvider",
    "stage": "mlopsctl.providers.stage:StageProvider",
    "model": "mlopsctl.providers.model:ModelProvider",
    "registry": "mlopsctl.providers.registry:RegistryProvider",
    "image": "mlopsctl.providers.image:ImageProvider",
    "deployment": "mlopsctl.providers.deployment:DeploymentProvider",
}

# Capabilities that add warnings to every plan (things worth knowing that are no change of a
# resource): name -> "module:function", each ``(ctx) -> list[str]``. Import strings keep the
# engine from importing the capability packages above it.
PLAN_WARNINGS: dict[str, str] = {
    "drift": "mlopsctl.monitoring.warnings:plan_warnings",
    "candidates": "mlopsctl.training.candidates:plan_warnings",
    "engine": "mlopsctl.serving.engine:plan_warnings",
}

_instances: dict[str, Provider] = {}


def get_provider(kind: str) -> Provider:
    if kind not in _instances:
        try:
            target = PROVIDERS[kind]
        except KeyError:
            from mlopsctl.errors import MlopsError

            raise MlopsError(f"unknown resource kind {kind!r}; known kinds: {', '.join(PROVIDERS)}") from None
        module, _, cls = target.partition(":")
        _instances[kind] = getattr(importlib.import_module(module), cls)()
    return _instances[kind]


def all_providers() -> list[Provider]:
    return [get_provider(k) for k in PROVIDERS]


def warning_sources() -> list[Callable[[Context], list[str]]]:
    """The functions of :data:`PLAN_WARNINGS`, imported on use."""
    out = []
    for target in PLAN_WARNINGS.values():
        module, _, fn = target.partition(":")
        out.append(getattr(importlib.import_module(module), fn))
    return out
