"""The ownership header: one comment line that marks a file as written by mlopsctl.

    # Managed by mlopsctl (templates/<template>). Edit the specs, not this file. mlopsctl-digest: sha256:<hex>

The digest is of the *body* (the file without that line), so a hand edit shows as a body that
no longer matches its recorded digest. The line goes first, except after lines that must stay
first: a ``#!`` shebang, a Python coding declaration, Dockerfile parser directives
(``# syntax=``, ``# escape=``, ``# check=``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from mlopsctl.errors import MlopsError

_HASH_NAMES = {".gitignore", ".dockerignore", ".dvcignore", "Makefile", "Containerfile", "Dockerfile", "CODEOWNERS"}
_HASH_SUFFIXES = {
    ".yml",
    ".yaml",
    ".py",
    ".sh",
    ".bash",
    ".toml",
    ".cfg",
    ".ini",
    ".conf",
    ".txt",
    ".r",
    ".env",
    ".properties",
    ".dockerfile",
    ".gitignore",
    ".dockerignore",
}
_HTML_SUFFIXES = {".md", ".html", ".htm"}

_HEADER = re.compile(
    r"Managed by mlopsctl \(templates/(?P<template>[^)]*)\)\..*?mlopsctl-digest: sha256:(?P<digest>[0-9a-f]{64})"
)
_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")
_DOCKER_DIRECTIVE = re.compile(r"^#\s*(syntax|escape|check)\s*=", re.IGNORECASE)
# The header is looked for among the first lines only: a cheap read, and a file that merely
# quotes a header deep inside is not mistaken for ours.
_SCAN_LINES = 8


def comment_style(path: str) -> tuple[str, str] | None:
    """(prefix, suffix) of a one-line comment in this kind of file, or None if it has none."""
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > 0 else ""
    if name in _HASH_NAMES or name.startswith("Dockerfile") or suffix in _HASH_SUFFIXES:
        return ("# ", "")
    if suffix in _HTML_SUFFIXES:
        return ("<!-- ", " -->")
    return None


def is_dockerfile(path: str) -> bool:
    name = path.rpartition("/")[2]
    return name.startswith(("Dockerfile", "Containerfile")) or name.lower().endswith(".dockerfile")


def body_digest(body: bytes) -> str:
    """sha256 of a body; CRLF counts as LF so a Windows checkout is not mistaken for an edit."""
    return hashlib.sha256(body.replace(b"\r\n", b"\n")).hexdigest()


def header_line(path: str, template: str, digest: str) -> str:
    style = comment_style(path)
    if style is None:
        raise MlopsError(
            f"{path}: mlopsctl cannot put an ownership header into this kind of file; managed files must allow "
            "comments (YAML, Python, shell, TOML, text, Dockerfile, ignore files, Markdown, HTML)"
        )
    text = (
        f"Managed by mlopsctl (templates/{template}). Edit the specs, not this file. mlopsctl-digest: sha256:{digest}"
    )
    return f"{style[0]}{text}{style[1]}"


def _split_lines(text: str) -> list[str]:
    """Lines with their ``\\n`` (only ``\\n`` splits: other separators are content)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _keep_first(lines: list[str], path: str) -> int:
    """How many leading lines must stay above the header."""
    n = 0
    if lines and lines[0].startswith("#!") and lines[0].endswith("\n"):
        n = 1
    if path.endswith(".py") and n < len(lines) and n < 2 and _CODING.match(lines[n]) and lines[n].endswith("\n"):
        n += 1
    if is_dockerfile(path):
        while n < len(lines) and _DOCKER_DIRECTIVE.match(lines[n]) and lines[n].endswith("\n"):
            n += 1
    return n


def compose(body: str, path: str, template: str, digest: str | None = None) -> str:
    """The file to write: ``body`` with the ownership header inserted where it may go.

    ``digest`` is ``body_digest`` of the body when the caller computed it already.
    """
    if digest is None:
        digest = body_digest(body.encode("utf-8"))
    lines = _split_lines(body)
    n = _keep_first(lines, path)
    return "".join(lines[:n]) + header_line(path, template, digest) + "\n" + "".join(lines[n:])


@dataclass(frozen=True)
class Parsed:
    managed: bool
    """An ownership header was found."""
    recorded_digest: str | None
    """The body digest written in the header when the file was rendered."""
    template: str | None
    body: bytes
    """The file without the header line (the whole file if unmanaged)."""

    @property
    def body_digest(self) -> str:
        return body_digest(self.body)

    @property
    def drifted(self) -> bool:
        """Edited since it was rendered: the body no longer matches the recorded digest."""
        return self.managed and self.recorded_digest != self.body_digest


def parse(data: bytes) -> Parsed:
    """Find our header among the first lines of ``data`` and split it from the body."""
    offset = 0
    for _ in range(_SCAN_LINES):
        end = data.find(b"\n", offset)
        stop = len(data) if end < 0 else end + 1
        line = data[offset:stop]
        if b"mlopsctl-digest:" in line:
            m = _HEADER.search(line.decode("utf-8", errors="replace"))
            if m:
                return Parsed(True, m.group("digest"), m.group("template"), data[:offset] + data[stop:])
        if end < 0:
            break
        offset = stop
    return Parsed(False, None, None, data)
