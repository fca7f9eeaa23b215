"""Reading one YAML spec file into plain data plus the location of every key and item.

Specs are written by people, so anything a person can get wrong in a YAML file (bad syntax,
an empty file, a file that is not UTF-8, a duplicate key, a list where a mapping belongs at
the top, aliases that expand explosively, absurd nesting) comes back as a :class:`Problem`
with a file:line:column, never as a traceback or a hang.

Most specs are plain block YAML: those are composed by libyaml (PyYAML's C loader, whose nodes
carry line and column marks) and resolved here by YAML 1.2's core rules, as ruamel would read
them, about thirty times faster. Anything else (an error to report, anchors, tags, merge keys,
a scalar whose YAML 1.2 reading is not obvious) goes to ruamel.yaml, imported inside
:func:`parse` only when needed: a warm spec cache never needs either.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from mlopsctl.errors import Location, Problem

MAX_BYTES = 128 * 1024
"""Specs are small (a model with 1,000 features is ~50 KB); refusing bigger files bounds parse time."""
MAX_DEPTH = 64
"""Deeper nesting than any spec needs; also keeps jsonschema's recursion far from the limit."""
MAX_NODES = 100_000
"""Bound on values after alias expansion: a few aliases are fine, a "billion laughs" is not."""


@dataclass
class Parsed:
    """What :func:`parse` found: plain data and locations when the file was readable."""

    data: Any = None
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def excerpt(text: str, line: int | None, column: int | None = None, context: int = 2) -> str | None:
    """A few source lines around ``line`` (1-based) with that line marked and a caret under ``column``."""
    if not line:
        return None
    src = text.splitlines()
    if not 1 <= line <= len(src):
        return None
    first, last = max(1, line - context), min(len(src), line + context)
    width = len(str(last))
    out = []
    for n in range(first, last + 1):
        mark = ">" if n == line else " "
        out.append(f" {mark} {n:>{width}} | {src[n - 1].rstrip()}")
        if n == line and column:
            out.append(f"   {' ' * width} | {' ' * (column - 1)}^")
    return "\n".join(out)


def _problem(path: str, text: str | None, line: int | None, col: int | None, message: str, key: str = "",
             hint: str | None = None) -> Problem:
    return Problem(
        location=Location(path, line, col),
        message=message,
        path=key,
        hint=hint,
        excerpt=excerpt(text, line, col) if text is not None else None,
    )


def decode(path: str, raw: bytes) -> tuple[str | None, list[Problem]]:
    """The file's text, or why it cannot be a spec (too big, not UTF-8, empty)."""
    if len(raw) > MAX_BYTES:
        return None, [_problem(path, None, None, None,
                               f"file is {len(raw)} bytes; a spec may be at most {MAX_BYTES} bytes")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = raw[: e.start]
        line = before.count(b"\n") + 1
        col = e.start - (before.rfind(b"\n") + 1) + 1
        return None, [_problem(path, None, line, col,
                               f"file is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); "
                               "save it as UTF-8")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [_problem(path, None, line, None, "file contains NUL bytes; a spec must be YAML text")]
    return text, []


def parse(path: str, raw: bytes) -> Parsed:
    """Parse one spec file's bytes; problems (if any) carry ``path`` and a location."""
    text, problems = decode(path, raw)
    if text is None:
        return Parsed(problems=problems)
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        return Parsed(problems=[_problem(path, None, 1, 1, "file is empty; expected a mapping with "
                                                           "apiVersion, kind, name, ...")])
    deep = _flow_too_deep(text)
    if deep is not None:
        return Parsed(problems=[_problem(path, text, deep[0], deep[1],
                                         f"YAML is nested too deeply (more than {MAX_DEPTH} levels)")])
    fast = _fast_parse(text)
    if fast is not None:
        return fast
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as e:
        return Parsed(problems=[_yaml_problem(path, text, e)])
    except YAMLError as e:
        return Parsed(problems=[_problem(path, text, 1, 1, f"invalid YAML: {e}")])
    except RecursionError:
        return Parsed(problems=[_problem(path, None, None, None,
                                         f"YAML is nested too deeply (more than {MAX_DEPTH} levels)")])
    except (ValueError, TypeError, OverflowError) as e:  # e.g. an integer with 5,000 digits
        return Parsed(problems=[_problem(path, None, None, None, f"invalid YAML value: {e}")])
    except Exception as e:  # noqa: BLE001 - the parser's own slip on odd input is still the input's problem
        return Parsed(problems=[_problem(path, None, None, None, f"cannot parse this YAML ({type(e).__name__}: {e})")])
    if doc is None:
        return Parsed(problems=[_problem(path, text, 1, 1, "file is empty; expected a mapping with "
                                                           "apiVersion, kind, name, ...")])
    if not isinstance(doc, dict):
        return Parsed(problems=[_problem(path, text, 1, 1, f"expected a mapping at the top level "
                                                           f"(apiVersion: ..., kind: ...), got {kind_of(doc)}")])
    conv = _Converter(path, text)
    data = conv.plain(doc, "", 0)
    if conv.problems:
        return Parsed(problems=conv.problems)
    return Parsed(data=data, lines=conv.lines)


_FLOW_CHARS = re.compile(r"[\[\]{}'\"#]")
_DQ_END = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)
FLOW_LIMIT = 200
"""ruamel's scanner slows down quadratically with flow nesting ([[[[...); refuse far beyond any spec first."""


def _flow_too_deep(text: str) -> tuple[int, int] | None:
    """Where flow brackets nest deeper than FLOW_LIMIT, found by a cheap scan that skips
    comments and quoted scalars (a heuristic: brackets inside plain scalars count too)."""
    depth, i = 0, 0
    while True:
        m = _FLOW_CHARS.search(text, i)
        if m is None:
            return None
        c, j = m.group(), m.start()
        prev = text[j - 1] if j else "\n"
        i = j + 1
        if c == "#":
            if prev in " \t\n":
                k = text.find("\n", j)
                if k < 0:
                    return None
                i = k
        elif c in "'\"":
            if prev not in " \t\n[{,:-?":
                continue  # an apostrophe inside a word, not a quoted scalar
            if c == '"':
                end = _DQ_END.match(text, j + 1)
                if end is None:
                    return None  # unterminated: the parser reports it
                i = end.end()
            else:
                k = j + 1
                while True:
                    k = text.find("'", k)
                    if k < 0:
                        return None
                    if text.startswith("''", k):
                        k += 2
                        continue
                    break
                i = k + 1
        elif c in "[{":
            depth += 1
            if depth > FLOW_LIMIT:
                line = text.count("\n", 0, j) + 1
                return line, j - (text.rfind("\n", 0, j) + 1) + 1
        else:
            depth = max(0, depth - 1)


def _yaml_problem(path: str, text: str, e: Any) -> Problem:
    mark = e.problem_mark or e.context_mark
    line = mark.line + 1 if mark is not None else None
    col = mark.column + 1 if mark is not None else None
    what = (e.problem or "").strip()
    if what.startswith("found duplicate key"):
        # ruamel: found duplicate key "a" with value "2" (original value: "1")
        key = what.split('"')[1] if what.count('"') >= 2 else "?"
        first = f" (first at line {e.context_mark.line + 1})" if e.context_mark is not None else ""
        return _problem(path, text, line, col, f"duplicate key '{key}'{first}; a key may appear only once "
                                               "in a mapping")
    context = (e.context or "").strip()
    msg = f"invalid YAML: {what or context or 'cannot parse'}"
    if context and what and e.context_mark is not None and e.context_mark is not mark:
        msg += f" ({context} at line {e.context_mark.line + 1}, column {e.context_mark.column + 1})"
    if "'\\t'" in what or "\\t" in what:
        msg += "; YAML does not allow tabs for indentation or before a comment"
    return _problem(path, text, line, col, msg)


def kind_of(value: Any) -> str:
    """A value's kind in the words a spec author uses."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"a number ({value})"
    if isinstance(value, float):
        return f"a number ({value:g})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


class _Converter:
    """ruamel's round-trip objects -> plain JSON-able data, recording every key's location.

    Aliases in ruamel's round-trip data are shared objects, so expanding them is where an
    alias bomb would explode: the node budget and the cycle check bound that work.
    """

    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, text
        self.lines: dict[str, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.nodes = 0
        self.seen: set[int] = set()
        self.shared = False
        self.active: set[int] = set()
        self.stopped = False

    def fail(self, key: str, message: str) -> None:
        line, col = self._nearest(key)
        self.problems.append(_problem(self.path, self.text, line, col, message, key))

    def _nearest(self, key: str) -> tuple[int, int]:
        p = key
        while p not in self.lines:
            if not p:
                return (1, 1)
            p = p.rpartition(".")[0]
        return self.lines[p]

    def plain(self, value: Any, key: str, depth: int) -> Any:
        if self.stopped:
            return None
        self.nodes += 1
        if self.nodes > MAX_NODES:
            why = " (YAML aliases expand into too many values)" if self.shared else ""
            self.fail(key.partition(".")[0], f"document has more than {MAX_NODES} values{why}; specs must be small")
            self.stopped = True
            return None
        if depth > MAX_DEPTH:
            self.fail(key, f"nested more than {MAX_DEPTH} levels deep")
            self.stopped = True
            return None
        if isinstance(value, (dict, list, tuple)):
            ident = id(value)
            if ident in self.active:
                self.fail(key, "a YAML alias refers to the value that contains it (a cycle)")
                self.stopped = True
                return None
            if ident in self.seen:
                self.shared = True
            self.seen.add(ident)
            self.active.add(ident)
            try:
                return self._container(value, key, depth)
            finally:
                self.active.discard(ident)
        return self._scalar(value, key)

    def _container(self, value: Any, key: str, depth: int) -> Any:
        prefix = key + "." if key else ""
        lc = getattr(value, "lc", None)
        if not key and lc is not None and lc.line is not None:
            self.lines[""] = (lc.line + 1, lc.col + 1)
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for k, v in value.items():
                pos = _lc_key(lc, k)
                if not isinstance(k, str):
                    shown = prefix + _key_text(k)
                    if pos:
                        self.lines.setdefault(shown, pos)
                    self.fail(shown, f"keys must be strings, got {kind_of(k)}; quote the key")
                    continue
                if pos:
                    self.lines[prefix + k] = pos
                out[k] = self.plain(v, prefix + k, depth + 1)
            return out
        items = []
        for i, v in enumerate(value):
            pos = _lc_item(lc, i)
            if pos:
                self.lines[f"{prefix}{i}"] = pos
            items.append(self.plain(v, f"{prefix}{i}", depth + 1))
        return items

    def _scalar(self, value: Any, key: str) -> Any:
        if value is None or isinstance(value, bool):
            return value if value is None else bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, (_dt.date, _dt.datetime)):
            # YAML timestamps: a spec never needs a date object; keep what was written.
            return value.isoformat()
        if type(value).__name__ == "TaggedScalar":
            tag = getattr(getattr(value, "tag", None), "value", None) or getattr(value, "tag", "?")
            self.fail(key, f"custom YAML tag {tag} is not supported in specs")
            return None
        if isinstance(value, AbstractSet):
            self.fail(key, "a YAML set (!!set) is not supported in specs; use a list")
            return None
        if isinstance(value, (bytes, bytearray)):
            self.fail(key, "binary values (!!binary) are not supported in specs")
            return None
        self.fail(key, f"unsupported YAML value ({type(value).__name__})")
        return None


def _key_text(k: Any) -> str:
    if k is None:
        return "null"
    if isinstance(k, bool):
        return str(k).lower()
    return str(k)


def _lc_key(lc: Any, k: Any) -> tuple[int, int] | None:
    try:
        line, col = lc.key(k)
    except (AttributeError, KeyError, TypeError, IndexError):  # merged keys (<<) have no own position
        return None
    return (line + 1, col + 1)


def _lc_item(lc: Any, i: int) -> tuple[int, int] | None:
    try:
        line, col = lc.item(i)
    except (AttributeError, KeyError, TypeError, IndexError):
        return None
    return (line + 1, col + 1)


# ------------------------------------------------------------------ the fast path (libyaml)

_SPECIAL = re.compile(r"(?:^|[\s\[\]{},:-])[&*!][^\s,\[\]{}]")
"""An anchor, alias or tag where a token starts (also some harmless text, which only costs speed)."""
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_NULLS = {"null", "Null", "NULL", "~", ""}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
# YAML 1.1 words that YAML 1.2 (ruamel) reads as strings and libyaml's resolver as booleans:
# decided by the slow path, so both paths always agree.
_AMBIGUOUS = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"}


class _Slow(Exception):
    """This document needs ruamel (or has an error ruamel words best)."""


_COMPOSER: list[Any] = []


def _composer() -> Any:
    """libyaml's loader without PyYAML's tag resolver: :func:`_scalar` resolves plain scalars itself,
    and the resolver's Python calls, one per node, cost as much as composing."""
    if not _COMPOSER:
        import yaml

        class Composer(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
            def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
                return ""

            def descend_resolver(self, current_node: Any, current_index: Any) -> None:
                return None

            def ascend_resolver(self) -> None:
                return None

        _COMPOSER.append(Composer)
    return _COMPOSER[0]


def _fast_parse(text: str) -> Parsed | None:
    if "<<" in text or "\t" in text or _SPECIAL.search(text):
        return None  # anchors, aliases, tags, merge keys: ruamel's semantics
    try:
        import yaml

        loader = _composer()
    except (ImportError, AttributeError):
        return None
    try:
        node = yaml.compose(text, Loader=loader)
    except yaml.YAMLError:
        return None
    except (RecursionError, ValueError, TypeError):
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    lines: dict[str, tuple[int, int]] = {"": (node.start_mark.line + 1, node.start_mark.column + 1)}
    try:
        data = _node(node, "", 0, lines, [0])
    except _Slow:
        return None
    return Parsed(data=data, lines=lines)


def _node(node: Any, key: str, depth: int, lines: dict[str, tuple[int, int]], count: list[int]) -> Any:
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_NODES:
        raise _Slow
    prefix = key + "." if key else ""
    kind = node.id
    if kind == "scalar":
        return _scalar(node)
    if kind == "mapping":
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            if knode.id != "scalar":
                raise _Slow
            k = _scalar(knode)
            if not isinstance(k, str) or k in out:
                raise _Slow  # a key that is not a string, or a duplicate: ruamel's message
            lines[prefix + k] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
            out[k] = _node(vnode, prefix + k, depth + 1, lines, count)
        return out
    items = []
    for i, vnode in enumerate(node.value):
        lines[f"{prefix}{i}"] = (vnode.start_mark.line + 1, vnode.start_mark.column + 1)
        items.append(_node(vnode, f"{prefix}{i}", depth + 1, lines, count))
    return items


def _scalar(node: Any) -> Any:
    value: str = node.value
    if node.style:  # quoted or block: a string whatever it looks like
        return value
    if value in _NULLS:
        return None
    if value in _BOOLS:
        return _BOOLS[value]
    if value in _AMBIGUOUS:
        raise _Slow
    if _PLAIN_INT.fullmatch(value) and len(value) < 20:
        return int(value)
    if _PLAIN_FLOAT.fullmatch(value) and len(value) < 40:
        return float(value)
    if value[0] in "0123456789+-.~=" and (not any(c in value for c in " \t") or _TIMESTAMP.match(value)):
        raise _Slow  # 0x1F, 1_000, 1e3, .inf, dates...: YAML 1.2's resolver decides (ruamel)
    return value


# ------------------------------------------------------------------ machine-written block YAML

_YAML11_WORDS = _AMBIGUOUS | {"yes", "no"}
_BASE_INT = re.compile(r"0(?:b[0-1_]+|x[0-9a-fA-F_]+|o[0-7_]+)", re.IGNORECASE)
"""YAML 1.1's binary, hexadecimal (and 1.2's octal) integers: a digest shaped like one is left to libyaml."""
_DIGEST = re.compile(r"[0-9a-f]{32}(?:\.dir)?|[0-9a-f]{64}")
"""An md5 (a directory's with ``.dir``) or a sha256: most values of a big ``dvc.lock``, told at once."""


def load_block(text: str) -> Any:
    """Plain data of machine-written block YAML (``dvc.lock``, ``.dvc`` files, rendered params),
    read line by line in Python: several times faster than libyaml's loader, whose Python-side
    resolver and constructor dominate on big files. Anything outside that simple shape (flow
    collections, comments, anchors, multi-line or double-quoted scalars, words YAML 1.1 reads
    as booleans) is left to PyYAML, so the result is always what ``yaml.safe_load`` gives."""
    try:
        return _Block(text).parse()
    except _Slow:
        import yaml

        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


class _Block:
    def __init__(self, text: str) -> None:
        if "\t" in text or "\r" in text:
            raise _Slow
        self.rows: list[tuple[int, str]] = []
        self.keys: dict[str, str] = {}
        """A key's text -> the key (a big file repeats a few dozen keys thousands of times)."""
        for line in text.split("\n"):
            stripped = line.lstrip(" ")
            if not stripped or stripped[0] == "#":
                continue  # a whole-line comment
            if " #" in stripped:
                raise _Slow  # a trailing comment, or a '#' in a quoted scalar: libyaml tells them apart
            self.rows.append((len(line) - len(stripped), stripped.rstrip(" ")))
        self.i = 0

    def parse(self) -> Any:
        if not self.rows:
            return None
        indent, first = self.rows[0]
        if first.startswith(("---", "%")):
            raise _Slow
        value = self._seq(indent) if _is_item(first) else self._map(indent)
        if self.i != len(self.rows):
            raise _Slow
        return value

    def _map(self, indent: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        rows = self.rows
        while self.i < len(rows):
            ind, content = rows[self.i]
            if ind < indent:
                break
            if ind > indent or _is_item(content):
                raise _Slow
            key, rest = _split_key(content, self.keys)
            self.i += 1
            if rest:
                value = _plain_scalar(rest)
            elif self.i < len(rows) and (rows[self.i][0] > indent or
                                         (rows[self.i][0] == indent and _is_item(rows[self.i][1]))):
                child, text = rows[self.i]
                value = self._seq(child) if _is_item(text) else self._map(child)
            else:
                value = None
            if key in out:
                raise _Slow
            out[key] = value
        return out

    def _seq(self, indent: int) -> list[Any]:
        items: list[Any] = []
        rows = self.rows
        while self.i < len(rows):
            ind, content = rows[self.i]
            if ind != indent or not _is_item(content):
                if ind > indent:
                    raise _Slow
                break
            rest = content[2:].lstrip(" ") if content != "-" else ""
            if not rest or rest.startswith("- ") or rest == "-":
                raise _Slow
            if _has_key(rest):
                rows[self.i] = (indent + (len(content) - len(rest)), rest)  # the item's mapping starts here
                items.append(self._map(rows[self.i][0]))
            else:
                items.append(_plain_scalar(rest))
                self.i += 1
        return items


def _is_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _has_key(content: str) -> bool:
    if content[0] in "'\"[{":
        if content[0] in "[{":
            return False
        raise _Slow  # a quoted key or a quoted scalar: libyaml tells them apart
    return ": " in content or content.endswith(":")


def _split_key(content: str, known: dict[str, str]) -> tuple[str, str]:
    key, sep, rest = content.partition(": ")
    if not sep:
        if not content.endswith(":"):
            raise _Slow
        key, rest = content[:-1], ""
    parsed = known.get(key)
    if parsed is None:
        if content[0] in "'\"[{?&*!|>%@`" or not key or key != key.strip() or ":" in key:
            raise _Slow
        parsed = _plain_scalar(key)
        if not isinstance(parsed, str):
            raise _Slow
        known[key] = parsed
    return parsed, rest.strip(" ")


def _plain_scalar(value: str) -> Any:
    if len(value) >= 32 and _DIGEST.fullmatch(value) and (
            value.endswith(".dir") or not (value.isdigit() or _BASE_INT.fullmatch(value))):
        return value  # hex without a dot, a dash or a colon: a YAML 1.1 number only when all digits or 0b...
    if value.isdigit() and value.isascii() and len(value) < 19 and (value[0] != "0" or len(value) == 1):
        return int(value)  # a decimal integer (a leading 0 is YAML 1.1's octal: below)
    first = value[0]
    if first == "'":
        if len(value) < 2 or not value.endswith("'") or "'" in value[1:-1].replace("''", ""):
            raise _Slow
        return value[1:-1].replace("''", "'")
    if first in "\"[{&*!|>%@`?,":
        if value in ("[]", "{}"):
            return [] if value == "[]" else {}
        raise _Slow
    if value in _NULLS:
        return None
    if value in _BOOLS:
        return _BOOLS[value]
    if value in _YAML11_WORDS or ": " in value or value.endswith(":"):
        raise _Slow
    if _PLAIN_INT.fullmatch(value) and len(value) < 20:
        return int(value)
    if _PLAIN_FLOAT.fullmatch(value) and len(value) < 40 and "e" not in value.lower():
        return float(value)
    if first.isdigit() and value.removesuffix(".dir").isalnum() and not _BASE_INT.fullmatch(value) and any(
            c.isalpha() and c not in "eE" for c in value):
        # A digest such as 407cc4ec... or 0b4a2495... (one in 256 md5s starts so, so nearly every
        # big dvc.lock has one): no YAML 1.1 number or date looks like it.
        return value
    if first in "0123456789+-.~=" or ":" in value:
        raise _Slow  # YAML 1.1 reads 1:30, 1_000, 0x1F, dates...: libyaml decides
    return value
