"""Escaping of spec values for the file they land in: the filters every template uses.

Each filter turns a value into text that reads back as exactly that value in its context, or
refuses it (an :class:`UnsafeValue`) when the context has no way to carry it. The schemas already
refuse line breaks and control characters in names, URLs, branches, image references and paths;
these filters are the second wall, so a value that slips past a schema still cannot add a key to
a workflow, a step to a job, an instruction to a Dockerfile or a word to a shell line.

| filter | context |
| --- | --- |
| ``yaml_quote`` | a YAML scalar (double-quoted, JSON escapes) |
| ``gha`` | a YAML value in a GitHub Actions workflow: ``yaml_quote`` that also refuses ``${{`` |
| ``gh_branch`` | a branch in ``on.<event>.branches`` (a glob: ``*?+![\\`` escaped) |
| ``gh_string`` | a string literal inside a GitHub expression (``'it''s'``) |
| ``job_id`` | a workflow job id (letters, digits, ``-`` and ``_``, or refused) |
| ``shell_quote`` | one POSIX shell word, on one line |
| ``comment`` | text after ``#`` in YAML, a Dockerfile, a shell script or Python: one line |
| ``docker_string`` | the inside of a double-quoted Dockerfile string (``LABEL k="..."``) |
| ``image_ref`` | an image reference after ``FROM`` |
| ``image_tag_suffix`` | the rest of a tag after ``FROM python:${PYTHON_VERSION}`` (``-slim``) |
| ``py_text`` | text inside a Python ``\"\"\"docstring\"\"\"`` |
| ``md_cell`` / ``md_code`` | a Markdown table cell / a code span in one |
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from mlopsctl.errors import MlopsError


class UnsafeValue(MlopsError):
    """A value that cannot be written into its file without changing the file's structure."""


# Characters YAML does not allow raw, or that readers treat as line breaks or strip (U+FEFF).
_NOT_YAML_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
# Line breaks in any of the readers involved (YAML 1.1, Python's str.splitlines, Unicode), and the
# other C0/C1 controls: never allowed inside a single line of a generated file.
LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_GH_EXPRESSION = "${{"


def _text(value: Any, what: str) -> str:
    if isinstance(value, (dict, list, tuple, set)):
        raise UnsafeValue(f"{what}: expected a string, got {type(value).__name__}")
    return "" if value is None else str(value)


def _one_line(text: str, what: str) -> str:
    m = LINE_BREAKING.search(text)
    if m:
        raise UnsafeValue(
            f"{what}: {text[:60]!r} contains the control character U+{ord(m.group()):04X} at character "
            f"{m.start() + 1}; it would end the line it is written on"
        )
    return text


def yaml_quote(value: Any) -> str:
    """A YAML scalar that reads back as exactly ``value``.

    Strings become double-quoted (JSON escapes are valid YAML), so ``on``, ``3.10``, ``*x``,
    ``!!tag``, ``&anchor`` or ``a: b`` stay strings; None, booleans and numbers keep their type.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if not isinstance(value, str):
        raise MlopsError(f"yaml_quote: expected a string, number, boolean or null, got {type(value).__name__}")
    m = _SURROGATE.search(value)
    if m:  # no UTF-8 file can hold it, and YAML readers refuse its escape
        raise UnsafeValue(f"{value[:60]!r} contains a lone surrogate (U+{ord(m.group()):04X}), which is not text")
    # JSON escapes control characters, quotes and backslashes; characters YAML does not allow
    # raw (or that readers strip, like U+FEFF) become \\uXXXX escapes, which YAML reads back.
    # Astral characters stay raw: YAML readers do not join JSON's surrogate-pair escapes.
    return _NOT_YAML_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


def gha(value: Any) -> str:
    """A YAML value in a GitHub Actions workflow: a scalar, or a flow list of scalars.

    GitHub evaluates ``${{ ... }}`` in almost every value (``env:``, ``runs-on:``, ``name:``,
    ``with:``) before any shell sees it, and there is no escape for it; so a value holding one is
    refused rather than written. Values reach ``run:`` scripts only through ``env:``.
    """
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if isinstance(item, str) and _GH_EXPRESSION in item:
            raise UnsafeValue(
                f"{item[:60]!r} contains a GitHub expression ({_GH_EXPRESSION} ... }}}}), which GitHub "
                "would evaluate in the workflow"
            )
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_quote(item) for item in value) + "]"
    return yaml_quote(value)


def gh_branch(value: Any) -> str:
    """A branch name as a GitHub filter pattern (``on.push.branches``): ``[*?+!\\`` escaped (GitHub's glob)."""
    return gha(re.sub(r"([*?+!\[\\])", r"\\\1", _text(value, "branch")))


def gh_string(value: Any) -> str:
    """A string literal of GitHub's expression language: single quotes, ``'`` doubled, one line."""
    text = _one_line(_text(value, "expression string"), "expression string")
    if "}}" in text:
        raise UnsafeValue(f"{text[:60]!r} contains '}}}}', which would end the GitHub expression around it")
    return "'" + text.replace("'", "''") + "'"


_JOB_ID = re.compile(r"[A-Za-z0-9_-]+")


def job_id(value: Any) -> str:
    """Part of a workflow job id; nothing but letters, digits, ``-`` and ``_`` can be one."""
    text = _text(value, "job id")
    # YAML allows implicit keys of at most 1024 characters; ids are names, not text.
    if not _JOB_ID.fullmatch(text) or len(text) > 100:
        raise UnsafeValue(f"{text[:60]!r} cannot be part of a workflow job id (at most 100 letters, digits, '-', '_')")
    return text


def shell_quote(value: Any) -> str:
    """One shell word, quoted for POSIX shells, on one line (scripts sit in YAML block scalars)."""
    return shlex.quote(_one_line(_text(value, "shell word"), "shell word"))


def comment(value: Any) -> str:
    """Text for a ``#`` comment: every line break and control character becomes a space.

    ``${{`` loses its meaning too (``${ {``): nothing reading the raw text should find an expression.
    """
    return LINE_BREAKING.sub(" ", _text(value, "comment")).replace(_GH_EXPRESSION, "${ {")


def docker_string(value: Any) -> str:
    """The inside of a double-quoted Dockerfile string: no line break, ``\\``, ``"`` and ``$`` escaped.

    ``$`` matters because Dockerfiles substitute ``$VAR`` and ``${VAR}`` inside double quotes.
    """
    text = _one_line(_text(value, "Dockerfile string"), "Dockerfile string")
    return re.sub(r'([\\"$])', r"\\\1", text)


# Docker's reference grammar, loosely: [host[:port]/]path[:tag][@digest], no spaces, no quotes.
IMAGE_REF = re.compile(
    r"[a-zA-Z0-9][a-zA-Z0-9._-]*(?::[0-9]+)?(?:/[a-zA-Z0-9][a-zA-Z0-9._-]*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,})?"
)


def image_ref(value: Any) -> str:
    """An image reference for ``FROM``, checked against Docker's grammar (nothing else fits there)."""
    text = _text(value, "image reference")
    if not IMAGE_REF.fullmatch(text):
        raise UnsafeValue(f"{text[:60]!r} is not an image reference (e.g. python:3.11-slim, registry:5000/team/base:1)")
    return text


def image_tag_suffix(value: Any) -> str:
    """The variant after a tag's version (``-slim-bookworm``), or nothing."""
    text = _text(value, "image tag")
    if text and not re.fullmatch(r"-[A-Za-z0-9_.-]{1,100}", text):
        raise UnsafeValue(f"{text[:60]!r} is not an image tag suffix such as -slim")
    return text


def py_text(value: Any) -> str:
    """Text inside a Python triple-quoted docstring: one line, backslashes and quotes escaped."""
    return re.sub(r'([\\"])', r"\\\1", comment(value))


def md_cell(value: Any) -> str:
    """Text for a Markdown table cell: one line, ``\\``, ``|`` and backticks escaped."""
    text = comment(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")


def md_code(value: Any) -> str:
    """A Markdown code span in a table cell: fenced by more backticks than the text holds."""
    text = comment(value).replace("|", "\\|")
    run = max((len(r) for r in re.findall("`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


FILTERS = {
    "yaml_quote": yaml_quote,
    "gha": gha,
    "gh_branch": gh_branch,
    "gh_string": gh_string,
    "job_id": job_id,
    "shell_quote": shell_quote,
    "comment": comment,
    "docker_string": docker_string,
    "image_ref": image_ref,
    "image_tag_suffix": image_tag_suffix,
    "py_text": py_text,
    "md_cell": md_cell,
    "md_code": md_code,
}
