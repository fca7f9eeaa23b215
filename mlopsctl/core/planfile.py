"""Saved plans: the same Plan object, with everything apply needs, as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from mlopsctl.core.model import Plan
from mlopsctl.errors import MlopsError
from mlopsctl.workspace.fsafe import write_atomic

MAGIC = "mlopsctl-plan"


def save(plan: Plan, path: Path) -> None:
    doc = {"kind": MAGIC, **plan.to_dict(payload=True)}
    write_atomic(path, json.dumps(doc, indent=1, sort_keys=True) + "\n")


def load(path: Path) -> Plan:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MlopsError(f"{path}: no such plan file") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise MlopsError(f"{path}: not a plan file written by `mlopsctl plan -o` ({e})") from None
    if not isinstance(doc, dict) or doc.get("kind") != MAGIC:
        raise MlopsError(f"{path}: not a plan file written by `mlopsctl plan -o`")
    try:
        return Plan.from_dict(doc)
    except (KeyError, TypeError, ValueError) as e:
        raise MlopsError(f"{path}: damaged plan file ({e})") from None
