"""Saved plans: the same Plan object, with everything apply needs, as JSON.

The file carries a digest of its own content: an edit after `mlopsctl plan -o` wrote it is named
as such. The digest is a help for people, not the guard (anyone can recompute it): apply never
executes a plan file, it re-derives the plan and compares (see :mod:`mlopsctl.core.saved`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from mlopsctl.core.model import Plan
from mlopsctl.errors import MlopsError
from mlopsctl.workspace.fsafe import write_atomic

MAGIC = "mlopsctl-plan"
_MAX_BYTES = 256 * 1024 * 1024


def _digest(doc: dict[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "digest"}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def save(plan: Plan, path: Path) -> None:
    doc: dict[str, Any] = {"kind": MAGIC, **plan.to_dict(payload=True)}
    doc["digest"] = _digest(json.loads(json.dumps(doc, default=str)))
    write_atomic(path, json.dumps(doc, indent=1, sort_keys=True, default=str) + "\n")


def load(path: Path) -> Plan:
    return read(path)[0]


def read(path: Path) -> tuple[Plan, str | None]:
    """The plan in ``path`` and, when its content does not match its digest, a sentence saying so."""
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise MlopsError(f"{path}: not a plan file written by `mlopsctl plan -o` (larger than 256 MB)")
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MlopsError(f"{path}: no such plan file") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise MlopsError(f"{path}: not a plan file written by `mlopsctl plan -o` ({e})") from None
    if not isinstance(doc, dict) or doc.get("kind") != MAGIC:
        raise MlopsError(f"{path}: not a plan file written by `mlopsctl plan -o`")
    try:
        _check_shape(doc)
        plan = Plan.from_dict(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise MlopsError(f"{path}: damaged plan file ({e})") from None
    recorded = doc.get("digest")
    problem = None
    if recorded is None:
        problem = f"{path} has no digest: it was not written by `mlopsctl plan -o`, or was edited"
    elif recorded != _digest(doc):
        problem = f"{path} was edited after `mlopsctl plan -o` wrote it (its content does not match its digest)"
    return plan, problem


def _check_shape(doc: dict[str, Any]) -> None:
    """Types from_dict relies on; anything else is a damaged file, never a crash."""
    if not isinstance(doc.get("changes"), list) or not all(isinstance(c, dict) for c in doc["changes"]):
        raise TypeError("'changes' must be a list of objects")
    for key in ("pins", "options"):
        if not isinstance(doc.get(key) or {}, dict):
            raise TypeError(f"{key!r} must be an object")
    for key in ("targets", "excludes", "warnings"):
        value = doc.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError(f"{key!r} must be a list of strings")
    for c in doc["changes"]:
        if not isinstance(c.get("address"), str):
            raise TypeError("every change needs a string 'address'")
        for key in ("before", "after", "payload"):
            if not isinstance(c.get(key) or {}, dict):
                raise TypeError(f"{c['address']}: {key!r} must be an object or null")
        for key in ("reasons", "depends_on"):
            value = c.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"{c['address']}: {key!r} must be a list of strings")
        src = c.get("source")
        if src is not None and not (isinstance(src, list) and len(src) == 3):
            raise TypeError(f"{c['address']}: 'source' must be [file, line, column] or null")
