"""Estimators by dotted class path, with their params checked against ``get_params()``.

A misspelt param must be a spec error pointing at the line in the model spec, not a crash a
minute into training; so the class is imported and its params compared before any data is fit.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import os
import sys
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from mlopsctl.errors import Location, MlopsError, Problem, SpecError
from mlopsctl.specs.model import SpecDoc


def spec_doc(root: Path, spec_path: str) -> SpecDoc:
    """The model spec with key locations, for messages (no validation: the trainer reads params)."""
    from mlopsctl.specs.yamlio import parse

    try:
        raw = (root / spec_path).read_bytes()
    except OSError:
        return SpecDoc(path=spec_path, data={})
    parsed = parse(spec_path, raw)
    data = parsed.data if isinstance(parsed.data, dict) else {}
    return SpecDoc(path=spec_path, data=data, lines=parsed.lines)


def _problem(doc: SpecDoc | None, path: str, message: str, hint: str | None = None, spec_path: str = "") -> Problem:
    loc = doc.loc(path) if doc is not None else Location(spec_path or "?")
    return Problem(location=loc, message=message, path=path, hint=hint)


ALWAYS_ALLOWED = ("sklearn", "src")
"""Module prefixes estimators may come from without saying so: scikit-learn and the repository's src/."""


def allowed_prefixes(root: Path) -> tuple[str, ...]:
    """``ALWAYS_ALLOWED`` plus ``estimators.allow`` of the project's mlops.yaml (read without importing)."""
    from mlopsctl.specs.yamlio import parse

    try:
        parsed = parse("mlops.yaml", (root / "mlops.yaml").read_bytes())
    except (OSError, MlopsError):
        return ALWAYS_ALLOWED
    data = parsed.data if isinstance(parsed.data, dict) else {}
    extra = (data.get("estimators") or {}).get("allow") if isinstance(data.get("estimators"), dict) else None
    return ALWAYS_ALLOWED + tuple(str(p) for p in extra or () if isinstance(p, str))


def is_allowed(module_name: str, prefixes: tuple[str, ...]) -> bool:
    return any(module_name == p or module_name.startswith(p + ".") for p in prefixes)


def import_class(root: Path, dotted: str, doc: SpecDoc | None = None, spec_path: str = "") -> type:
    """Import ``pkg.module.Class``; classes under ``src.`` are the user's, next to the specs.

    Only from an allowed module (:func:`allowed_prefixes`), checked before anything is imported:
    importing runs the module's code, in the pull-request check too. What the import prints goes
    to stderr, never to stdout (which may carry ``plan --format json``).
    """
    if not dotted or "." not in dotted:
        raise SpecError([_problem(doc, "estimator.class", f"expected a dotted class path like "
                                  f"'sklearn.ensemble.RandomForestClassifier', got {dotted!r}", spec_path=spec_path)])
    module_name, _, cls_name = dotted.rpartition(".")
    prefixes = allowed_prefixes(root)
    if not is_allowed(module_name, prefixes):
        extra = [p for p in prefixes if p not in ALWAYS_ALLOWED]
        raise SpecError([_problem(
            doc, "estimator.class",
            f"{dotted!r} is not from an allowed module: estimators come from scikit-learn (sklearn.*), this "
            f"repository's src/ (src.*)" + (f" or {', '.join(p + '.*' for p in extra)}" if extra else ""),
            hint=f"to allow it, list its module under estimators.allow in mlops.yaml (e.g. allow: [{module_name}])",
            spec_path=spec_path)])
    if module_name == "src" or module_name.startswith("src."):
        sys.dont_write_bytecode = True  # keep src/ (a DVC dep) free of __pycache__
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        # A ``src`` package imported earlier from another repository (tests, a long-lived
        # process) must not shadow this one's.
        loaded = sys.modules.get("src")
        where = str(getattr(loaded, "__file__", None) or next(iter(getattr(loaded, "__path__", [])), ""))
        if loaded is not None and not where.startswith(str(root) + "/"):
            for name in [n for n in sys.modules if n == "src" or n.startswith("src.")]:
                del sys.modules[name]
            importlib.invalidate_caches()
    try:
        with _stdout_to_stderr():
            module = importlib.import_module(module_name)
    except ImportError as e:
        raise SpecError([_problem(doc, "estimator.class", f"cannot import module {module_name!r} of estimator "
                                  f"{dotted!r}: {e}", spec_path=spec_path)]) from None
    except Exception as e:  # noqa: BLE001 - user code failing at import is the user's problem to see
        raise SpecError([_problem(doc, "estimator.class", f"importing {module_name!r} failed: "
                                  f"{type(e).__name__}: {e}", spec_path=spec_path)]) from None
    cls = getattr(module, cls_name, None)
    if cls is None:
        names = [n for n in dir(module) if n[:1].isupper()]
        close = difflib.get_close_matches(cls_name, names, n=1)
        raise SpecError([_problem(doc, "estimator.class", f"module {module_name!r} has no class {cls_name!r}",
                                  hint=f"did you mean '{module_name}.{close[0]}'?" if close else None,
                                  spec_path=spec_path)])
    if not isinstance(cls, type) or not hasattr(cls, "get_params") or not hasattr(cls, "fit"):
        raise SpecError([_problem(doc, "estimator.class", f"{dotted!r} is not a scikit-learn estimator "
                                  "(a class with fit and get_params)", spec_path=spec_path)])
    return cls


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send what runs inside to stderr, Python prints and writes to file descriptor 1 alike."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1 (a closed stdout): Python-level redirection only
        saved = None
    try:
        if saved is not None:
            os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def param_names(cls: type) -> set[str] | None:
    """The parameters ``cls`` takes (``get_params()`` of a default instance); None when it needs
    constructor arguments (e.g. meta-estimators), so only its constructor can judge."""
    try:
        return set(cls().get_params(deep=False))
    except TypeError:
        return None


def unknown_params(dotted: str, params: dict[str, Any], valid: AbstractSet[str], *, doc: SpecDoc | None = None,
                   spec_path: str = "") -> SpecError | None:
    """The error for params ``dotted`` does not take (each at its spec line, with a "did you mean"), or None."""
    unknown = [k for k in params if k not in valid]
    if not unknown:
        return None
    problems = []
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(valid), n=1)
        problems.append(_problem(doc, f"estimator.params.{key}", f"{dotted.rpartition('.')[2]} has no parameter {key!r}",
                                 hint=f"did you mean '{close[0]}'?" if close else None, spec_path=spec_path))
    return SpecError(problems)


def make_estimator(
    root: Path, dotted: str, params: dict[str, Any], *, seed: int = 0, doc: SpecDoc | None = None,
    spec_path: str = "",
) -> tuple[Any, dict[str, Any]]:
    """An unfitted estimator with ``params`` (checked); returns it and the params actually set
    (``random_state`` filled in from ``seed`` when the estimator has one and the spec did not)."""
    cls = import_class(root, dotted, doc, spec_path)
    valid = param_names(cls)
    params = dict(params)
    if valid is not None:
        error = unknown_params(dotted, params, valid, doc=doc, spec_path=spec_path)
        if error is not None:
            raise error
        if "random_state" in valid and "random_state" not in params:
            params["random_state"] = seed
    try:
        est = cls(**params)
    except Exception as e:  # noqa: BLE001 - any constructor error is about the spec's params
        raise SpecError([_problem(doc, "estimator.params", f"{dotted} rejected its params: "
                                  f"{type(e).__name__}: {e}", spec_path=spec_path)]) from None
    return est, params


def fit_error(dotted: str, spec_path: str, e: BaseException) -> MlopsError:
    msg = str(e).strip().splitlines()
    return MlopsError(f"{spec_path}: estimator {dotted} failed to fit: {type(e).__name__}: "
                      f"{msg[0] if msg else ''}".rstrip(": "))
