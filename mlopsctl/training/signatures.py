"""Estimator parameter names by class, remembered per installed scikit-learn.

The plan refuses a misspelt estimator param with the spec's line before anything trains. Asking
the class means importing scikit-learn (one to three seconds), yet the names a class takes change
only with the installed scikit-learn. So a check that imported a class (the plan's, or the
trainer's) records its names in ``.mlopsctl/cache/estimators.json`` under that installation, and
later plans read them there without importing anything. Only scikit-learn's own classes are
kept: the repository's (``src.*``) and other allowed modules can change at any commit, so they
are imported each time they are checked, as before. Like every cache here, losing it costs time
only.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CACHE_RELPATH = ".mlopsctl/cache/estimators.json"
_FORMAT = 1
_DIST = "scikit_learn-"


def cacheable(dotted: str) -> bool:
    """Whether ``dotted``'s parameter names may be remembered (scikit-learn's classes only)."""
    return dotted.startswith("sklearn.") and dotted.count(".") >= 2


def installed_sklearn() -> str | None:
    """What identifies the installed scikit-learn (its version and where it lives), found without
    importing it; None when it is not installed."""
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    package = Path(spec.origin).parent
    version = None
    try:
        for entry in os.scandir(package.parent):
            if entry.name.startswith(_DIST) and entry.name.endswith(".dist-info"):
                version = entry.name[len(_DIST):-len(".dist-info")]
                break
    except OSError:
        pass
    if version is None:  # an unusual layout: ask the installed metadata (slower)
        try:
            from importlib.metadata import PackageNotFoundError
            from importlib.metadata import version as dist_version

            version = dist_version("scikit-learn")
        except (ImportError, PackageNotFoundError):
            return None
    return f"{version}@{package}"


class EstimatorTable:
    """Parameter names by dotted class path for one scikit-learn installation (a run's memo)."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / CACHE_RELPATH
        self.installed = installed_sklearn()
        self.classes: dict[str, list[str]] = {}
        self.dirty = False
        try:
            blob = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if (isinstance(blob, dict) and blob.get("format") == _FORMAT and blob.get("sklearn") == self.installed
                and isinstance(blob.get("classes"), dict)):
            self.classes = {k: v for k, v in blob["classes"].items()
                            if isinstance(v, list) and all(isinstance(n, str) for n in v)}

    def params_of(self, dotted: str) -> frozenset[str] | None:
        """The names ``dotted`` takes, or None when not known for this installation."""
        if self.installed is None or not cacheable(dotted):
            return None
        names = self.classes.get(dotted)
        return frozenset(names) if names is not None else None

    def record(self, dotted: str, names: Iterable[str] | None) -> None:
        """Remember ``names`` (None: the class needs constructor arguments; nothing to remember)."""
        if names is None or self.installed is None or not cacheable(dotted):
            return
        listed = sorted(names)
        if self.classes.get(dotted) != listed:
            self.classes[dotted] = listed
            self.dirty = True

    def record_loaded(self, dotted_paths: Iterable[str]) -> None:
        """Record the classes among ``dotted_paths`` whose modules are imported already (free to ask)."""
        import sys

        from mlopsctl.training.estimators import param_names

        for dotted in dotted_paths:
            if not cacheable(dotted) or dotted in self.classes:
                continue
            module, _, name = dotted.rpartition(".")
            cls: Any = getattr(sys.modules.get(module), name, None)
            if isinstance(cls, type) and hasattr(cls, "get_params") and hasattr(cls, "fit"):
                self.record(dotted, param_names(cls))

    def save(self) -> None:
        if not self.dirty or self.installed is None:
            return
        from mlopsctl.workspace.fsafe import write_atomic

        blob = {"format": _FORMAT, "sklearn": self.installed, "classes": self.classes}
        try:
            write_atomic(self.path, json.dumps(blob, sort_keys=True, separators=(",", ":")),
                         root=self.path.parents[2])
        except OSError:
            return  # a read-only checkout: the next check imports again
        self.dirty = False


def remember(root: Path, dotted: str, cls: type) -> None:
    """Record ``cls``'s parameter names for later plans (the trainer calls this; errors only cost time)."""
    if not cacheable(dotted):
        return
    from mlopsctl.training.estimators import param_names

    table = EstimatorTable(root)
    if table.params_of(dotted) is None:
        table.record(dotted, param_names(cls))
        table.save()
