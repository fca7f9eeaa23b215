"""Block YAML for the pipeline files, written the way PyYAML writes it, without its Python emitter.

Every plan renders ``params/<model>.yaml`` and ``dvc.yaml`` to compare them with the files on
disk: with PyYAML's representer and emitter (Python code, node by node) that is most of a plan
of 1,000 models. The data is plain (string keys, short strings, numbers, booleans, nulls), so
:func:`emit` writes it directly, byte for byte what ``yaml.dump(data, sort_keys=False,
default_flow_style=False, width=4096, allow_unicode=True)`` writes, and raises
:class:`Unusual` for anything outside that narrow shape (the caller then asks PyYAML). A test
compares both on generated data.
"""

from __future__ import annotations

import math
import re
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*(?: [A-Za-z0-9_./-]+)*")
"""Strings PyYAML writes plain in block context (before the resolver's words are ruled out)."""
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_MAX_TEXT = 1000


class Unusual(Exception):
    """Data outside the shape :func:`emit` writes; PyYAML decides."""


def emit(data: Any) -> str:
    """``data`` (a mapping or a list) as block YAML, ending with a newline."""
    out: list[str] = []
    if isinstance(data, dict) and data:
        _mapping(data, 0, out, None)
    elif isinstance(data, list) and data:
        _sequence(data, 0, out)
    else:
        raise Unusual
    return "\n".join(out) + "\n"


def _mapping(data: dict[Any, Any], indent: int, out: list[str], first: str | None) -> None:
    pad = " " * indent
    for i, (key, value) in enumerate(data.items()):
        if not isinstance(key, str):
            raise Unusual
        lead = first if i == 0 and first is not None else pad
        name = _text(key, key=True)
        if isinstance(value, dict) and value:
            out.append(f"{lead}{name}:")
            _mapping(value, indent + 2, out, None)
        elif isinstance(value, list) and value:
            out.append(f"{lead}{name}:")
            _sequence(value, indent, out)  # PyYAML's sequences in a mapping are not indented
        else:
            out.append(f"{lead}{name}: {_scalar(value)}")


def _sequence(items: list[Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, dict) and item:
            _mapping(item, indent + 2, out, pad + "- ")
        elif isinstance(item, list) and item:
            raise Unusual  # a list in a list: rare enough to leave to PyYAML
        else:
            out.append(f"{pad}- {_scalar(item)}")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Unusual
        text = repr(value).lower()
        return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, list) and not value:
        return "[]"
    raise Unusual


_TEXTS: dict[tuple[str, bool], str] = {}
"""Strings written already (a pipeline repeats the same few hundred words for every model)."""


def _text(value: str, key: bool = False) -> str:
    hit = _TEXTS.get((value, key))
    if hit is None:
        hit = _TEXTS[(value, key)] = _new_text(value, key)
    return hit


def _new_text(value: str, key: bool) -> str:
    if len(value) > (120 if key else _MAX_TEXT) or not _PRINTABLE.fullmatch(value):
        raise Unusual  # line breaks, tabs, non-ASCII, long lines or keys: PyYAML's many rules
    if not value:
        return "''"
    if _PLAIN.fullmatch(value):
        return value if _resolves_to_str(value) else _quoted(value)
    if value[0] == " " or value[-1] == " ":
        raise Unusual
    if ": " in value or " #" in value or value[-1] == ":" or value[0] in _INDICATORS:
        return _quoted(value)  # never plain, whatever the resolver says
    raise Unusual


_INDICATORS = "#,[]{}&*!|>'\"%@`"
_RESOLVER: list[Any] = []


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_RESOLVED_WORDS = frozenset(
    f(w) for w in ("yes", "no", "true", "false", "on", "off", "null") for f in (str.lower, str.title, str.upper))
"""The only :data:`_PLAIN` texts starting with a letter or ``_`` that PyYAML resolves to anything
but a string: its implicit resolvers for those first characters are the YAML 1.1 booleans and
null (``tests/pipeline/test_emit.py`` holds this against PyYAML's own resolver)."""


def _resolves_to_str(value: str) -> bool:
    """Whether PyYAML reads ``value`` written plain back as a string (not a bool, number, null, date)."""
    if value[0].isalpha() or value[0] == "_":  # no import of PyYAML for a pipeline's words
        return value not in _RESOLVED_WORDS
    if not _RESOLVER:
        from yaml import ScalarNode
        from yaml.resolver import Resolver

        _RESOLVER.append((Resolver(), ScalarNode))
    resolver, node = _RESOLVER[0]
    return bool(resolver.resolve(node, value, (True, False)) == "tag:yaml.org,2002:str")
