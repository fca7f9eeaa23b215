"""Helpers for the training, dataset and stage tests: load a project, render the pipeline files
(as the file provider will), and run real ``dvc status``.

Plain Python (no pytest) so the benchmarks use them too.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from mlopsctl.core.context import Context
from mlopsctl.specs.model import Project, SpecDoc
from tests.builders import git, make_repo, to_yaml, write_tree  # noqa: F401


def _doc(root: Path, rel: str) -> SpecDoc:
    from mlopsctl.specs.yamlio import parse

    raw = (root / rel).read_bytes()
    parsed = parse(rel, raw)
    return SpecDoc(path=rel, data=parsed.data, lines=parsed.lines, digest=hashlib.sha256(raw).hexdigest())


def load(root: Path, *, validate: bool = True) -> Project:
    """The project's specs (the engine's validating loader, or a plain parse with validate=False)."""
    if not validate:
        models = {p.stem: _doc(root, f"models/{p.name}") for p in sorted((root / "models").glob("*.yaml"))}
        return Project(root=root, spec=_doc(root, "mlops.yaml"), models=models)
    from mlopsctl.specs.load import load_project

    return load_project(root)


def context(root: Path, log: Any = None, *, validate: bool = True) -> Context:
    kw = {"log": log} if log is not None else {}
    return Context(root=root, project=load(root, validate=validate), **kw)


def render_pipeline(root: Path) -> list[str]:
    """Write dvc.yaml and params/*.yaml from the pipeline file set; returns the paths written."""
    from mlopsctl.files.templating import render
    from mlopsctl.pipeline.files import files

    written = []
    for mf in files(context(root)):
        text = render(mf.template, mf.context)
        target = root / mf.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(mf.path)
    return written


def dvc(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "dvc"
    proc = subprocess.run([str(exe), *args], cwd=root, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def dvc_status(root: Path) -> dict[str, Any]:
    """``dvc status --json``: stage/file name -> what changed ({} when all is up to date)."""
    out = dvc(root, "status", "--json").stdout.strip()
    return json.loads(out) if out else {}


def stale_stages(root: Path) -> set[str]:
    """Names of dvc.yaml stages that ``dvc status`` says would run."""
    return {k.rpartition(":")[2] for k in dvc_status(root) if not k.endswith(".dvc")}
