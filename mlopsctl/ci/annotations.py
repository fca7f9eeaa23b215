"""Spec problems as GitHub Actions workflow commands, so they show on the pull request's diff.

GitHub parses ``::error file=F,line=L,col=C,title=T::message`` lines from a step's output. The
message must escape ``%``, CR and LF; property values must also escape ``,`` and ``:`` or the
command is cut short (a Windows path or a message with a colon would otherwise be mangled).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mlopsctl.errors import Problem


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _workspace_path(file: str, root: Path | None) -> str:
    """Annotations name files relative to the checkout, which may be above the mlopsctl root."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if root is None or not workspace:
        return file
    try:
        return (Path(root) / file).resolve().relative_to(Path(workspace).resolve()).as_posix()
    except ValueError:
        return file


def annotation(problem: Problem, *, level: str = "error", title: str = "mlopsctl", root: Path | None = None) -> str:
    """One workflow command for one problem (level: error, warning or notice)."""
    loc = problem.location
    props = [f"file={escape_property(_workspace_path(loc.file, root))}"]
    if loc.line is not None:
        props.append(f"line={loc.line}")
        if loc.column is not None:
            props.append(f"col={loc.column}")
    props.append(f"title={escape_property(title)}")
    message = f"{problem.path}: {problem.message}" if problem.path else problem.message
    if problem.hint:
        message += f" ({problem.hint})"
    return f"::{level} {','.join(props)}::{escape_data(message)}"


def format_annotations(problems: Iterable[Problem], *, level: str = "error", root: Path | None = None) -> str:
    """All problems as workflow commands, one per line (empty string for none)."""
    lines = [annotation(p, level=level, root=root) for p in problems]
    return "\n".join(lines) + ("\n" if lines else "")
