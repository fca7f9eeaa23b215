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

import ast
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


def _sklearn_package() -> Path | None:
    """The installed scikit-learn's folder, found without importing it (None: not installed)."""
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return None
    return Path(spec.origin).parent if spec is not None and spec.origin else None


def installed_sklearn() -> str | None:
    """What identifies the installed scikit-learn (its version and where it lives), found without
    importing it; None when it is not installed."""
    package = _sklearn_package()
    if package is None:
        return None
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


def static_param_names(dotted: str) -> frozenset[str] | None:
    """The parameter names of a scikit-learn class read from its source, importing nothing.

    scikit-learn's ``get_params`` lists the parameters of the class's own ``__init__`` signature
    (``BaseEstimator._get_param_names``). Parsing the module with :mod:`ast` (following
    ``from ... import`` re-exports, as ``sklearn.ensemble`` re-exports ``_forest``'s classes) gives
    the same names in milliseconds, where importing scikit-learn takes one to three seconds. None
    when the source is not plain enough to be sure (the name bound more than once, an inherited
    ``__init__``, ``*args``, a required argument, a compiled module): the class is imported then.
    """
    if not cacheable(dotted):
        return None
    module, _, name = dotted.rpartition(".")
    return _static(module, name, 0)


def _module_file(module: str) -> Path | None:
    """The source file of a module of the installed scikit-learn, found without importing it (a
    submodule's ``find_spec`` would import its parents)."""
    parts = module.split(".")
    package = _sklearn_package() if parts[0] == "sklearn" and all(p.isidentifier() for p in parts) else None
    if package is None:
        return None
    base = package.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py") if len(parts) > 1 else None):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def _static(module: str, name: str, depth: int) -> frozenset[str] | None:
    path = _module_file(module)
    if path is None or depth > 5:
        return None
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    bindings = [n for n in ast.walk(tree) if _binds(n, name)]
    if len(bindings) != 1 or bindings[0] not in tree.body:
        return None  # bound conditionally, twice, or not at all (a module __getattr__): unsure
    node = bindings[0]
    if isinstance(node, ast.ClassDef):
        return _init_names(node)
    if isinstance(node, ast.ImportFrom):
        alias = next(a for a in node.names if (a.asname or a.name) == name)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        if node.level:
            up = package.split(".")
            if node.level - 1 >= len(up):
                return None
            base = ".".join(up[: len(up) - (node.level - 1)])
            source = f"{base}.{node.module}" if node.module else base
        else:
            source = node.module or ""
        return _static(source, alias.name, depth + 1)
    return None


def _binds(node: ast.AST, name: str) -> bool:
    if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return node.name == name
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any((a.asname or a.name.partition(".")[0]) == name for a in node.names)
    if isinstance(node, ast.Name):
        return node.id == name and isinstance(node.ctx, (ast.Store, ast.Del))
    return False


def _init_names(cls: ast.ClassDef) -> frozenset[str] | None:
    inits = [n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "__init__"]
    if len(inits) != 1:
        return None  # inherited (or redefined): only the class itself can tell
    a = inits[0].args
    positional = [*a.posonlyargs, *a.args]
    if a.vararg is not None or not positional:
        return None
    if len(positional) - 1 > len(a.defaults) or any(d is None for d in a.kw_defaults):
        return None  # a required argument: ``cls()`` fails, and the constructor judges the params
    return frozenset(p.arg for p in [*positional[1:], *a.kwonlyargs])


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
