"""Validating spec data against the JSON Schemas in ``schemas/``, in words a spec author reads.

jsonschema's own messages ("'abc' is not of type 'number'") name neither the place nor what
to write instead. Every error becomes a :class:`Problem` at the offending key's file:line:column
with what was expected, and a "did you mean" for misspelt keys and values. Schemas may carry
``x-expected`` (how to describe a valid value) and ``x-message`` (for ``not``/``anyOf`` rules).

jsonschema is imported on first use only: a warm spec cache never needs it.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from mlopsctl.errors import Location, Problem
from mlopsctl.specs.yamlio import excerpt, kind_of
from mlopsctl.workspace.paths import SCHEMAS

SCHEMA_FILES = {"Project": "project.schema.json", "Model": "model.schema.json"}

_TYPE_WORDS: dict[str, str] = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing (null)",
}

_validators: dict[str, Any] = {}


def load_schema(kind: str) -> dict[str, Any]:
    try:
        with open(SCHEMAS / SCHEMA_FILES[kind], encoding="utf-8") as f:
            schema: dict[str, Any] = json.load(f)
    except (OSError, ValueError) as e:  # a broken installation, not a user mistake
        raise RuntimeError(f"cannot read the {kind} schema in {SCHEMAS}: {e}") from e
    return schema


def _validator(kind: str) -> Any:
    if kind not in _validators:
        from jsonschema import Draft202012Validator

        _validators[kind] = Draft202012Validator(load_schema(kind))
    return _validators[kind]


_quick: dict[str, Any] = {}


def _quickly_valid(kind: str, data: Any) -> bool:
    """True when ``data`` is certainly valid: fastjsonschema's generated checker (Python's own
    regexes, as jsonschema's) answers in microseconds where jsonschema takes milliseconds, which
    is most of loading 1,000 specs the first time. It only says yes or no; every problem is still
    found and worded by jsonschema below."""
    if kind not in _quick:
        try:
            from mlopsctl.specs.quick import checker

            _quick[kind] = checker(kind, _as_draft7(load_schema(kind)))
        except Exception:  # noqa: BLE001 - no quick checker (not installed, an odd version): jsonschema alone
            _quick[kind] = None
    check = _quick[kind]
    if check is None:
        return False
    try:
        check(data)
    except Exception:  # noqa: BLE001 - invalid, or a checker that cannot tell: jsonschema decides
        return False
    return True


def _as_draft7(node: Any) -> Any:
    """The schema with 2020-12's ``$ref`` beside other keywords as ``allOf`` (the same rule), for a
    draft-07 checker, which ignores what stands beside a ``$ref``."""
    if isinstance(node, list):
        return [_as_draft7(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k in ("properties", "$defs") else _as_draft7(v)) for k, v in node.items()}
    for key in ("properties", "$defs"):
        if isinstance(node.get(key), dict):
            out[key] = {name: _as_draft7(sub) for name, sub in node[key].items()}
    if "$ref" in out and len([k for k in out if not k.startswith(("x-", "$"))
                              and k not in ("description", "title", "default")]) > 0:
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}, out]}
    return out


def validate(kind: str, data: Any, file: str, lines: dict[str, tuple[int, int]], text: str | None = None) -> list[Problem]:
    """Every schema violation of one document, located via ``lines`` (see SpecDoc.lines)."""
    if _quickly_valid(kind, data):
        return []
    out: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in _validator(kind).iter_errors(data):
        for key, message, hint in _explain(error):
            if (key, message) in seen:  # e.g. jsonschema reports `required` once per missing key
                continue
            seen.add((key, message))
            line, col = _nearest(lines, key)
            out.append(Problem(
                location=Location(file, line, col),
                message=message,
                path=key,
                hint=hint,
                excerpt=excerpt(text, line, col) if text is not None else None,
            ))
    out.sort(key=lambda p: (p.location.line or 0, p.location.column or 0, p.path, p.message))
    return out


def _nearest(lines: dict[str, tuple[int, int]], key: str) -> tuple[int, int]:
    p = key
    while p not in lines:
        if not p:
            return (1, 1)
        p = p.rpartition(".")[0]
    return lines[p]


def dotted(parts: Any) -> str:
    return ".".join(str(p) for p in parts)


def did_you_mean(word: str, choices: Any) -> str | None:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else json.dumps(value)


def _expected(schema: Any) -> str | None:
    want = schema.get("x-expected") if isinstance(schema, dict) else None
    return str(want) if want else None


Explained = list[tuple[str, str, "str | None"]]


_CHAR_NAMES = {"\n": "a line break (\\n)", "\r": "a carriage return (\\r)", "\t": "a tab (\\t)"}


def _not_message(error: Any) -> str:
    """For ``not: {pattern: ...}`` rules: the schema's x-message plus what was found, and where."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    msg = str(schema.get("x-message") or "this value is not allowed")
    inst = error.instance
    m = re.search(error.validator_value["pattern"], inst) if isinstance(inst, str) else None
    if m is None:
        return msg
    found = m.group()
    if len(found) == 1 and not found.isprintable():
        what = _CHAR_NAMES.get(found, f"the control character U+{ord(found):04X}")
    else:
        what = repr(found)
    return f"{msg}; found {what} at character {m.start() + 1}"


def _explain(error: Any) -> Explained:
    """(dotted key path, message, hint) for one jsonschema error; some errors name several keys."""
    path = dotted(error.absolute_path)
    v, inst, schema = error.validator, error.instance, error.schema
    if "propertyNames" in error.relative_schema_path or "propertyNames" in error.schema_path:
        # jsonschema reports the bad key name as the instance, at the mapping's path.
        key = f"{path}.{inst}" if path else str(inst)
        name_rule = _expected(schema) or "a different name"
        if v == "not" and isinstance(schema, dict) and schema.get("x-message"):
            return [(key, f"invalid name {inst!r}: {_not_message(error)}", None)]
        return [(key, f"invalid name {inst!r}: expected {name_rule}", None)]
    if v == "additionalProperties" and isinstance(inst, dict):
        allowed = sorted(schema.get("properties", {}))
        pats = list(schema.get("patternProperties", {}))
        out: Explained = []
        for k in inst:
            if k in allowed or any(re.search(p, k) for p in pats):
                continue
            hint = did_you_mean(k, allowed) or (f"allowed keys: {', '.join(allowed)}" if allowed else None)
            where = f"{path}.{k}" if path else k
            out.append((where, f"unknown key {k!r}", hint))
        return out or [(path, error.message, None)]
    if v == "required":
        missing = [k for k in error.validator_value if isinstance(inst, dict) and k not in inst]
        return [(path, f"missing required key {k!r}", None) for k in missing] or [(path, error.message, None)]
    got = kind_of(inst)
    want = _expected(schema)
    if v == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
        hint = None
        if "string" in types and isinstance(inst, (int, float)) and not isinstance(inst, bool):
            hint = f'quote it: "{inst}"'
        return [(path, f"expected {want or words}, got {got}", hint)]
    if v == "enum":
        choices = ", ".join(_shown(c) for c in error.validator_value)
        hint = did_you_mean(inst, error.validator_value) if isinstance(inst, str) else None
        return [(path, f"expected one of {choices}, got {got}", hint)]
    if v == "const":
        return [(path, f"expected {_shown(error.validator_value)}, got {got}", None)]
    if v == "pattern":
        return [(path, f"expected {want or 'a string matching ' + error.validator_value}, got {got}", None)]
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[v]
        return [(path, f"expected a number {op} {error.validator_value}, got {got}", None)]
    if v in ("minItems", "minProperties"):
        n = error.validator_value
        noun = "item" if v == "minItems" else "entry"
        return [(path, f"expected {want or f'at least {n} {noun}' + ('s' if n != 1 else '')}, got none", None)]
    if v == "maxItems":
        return [(path, f"expected at most {error.validator_value} items", None)]
    if v == "uniqueItems":
        seen: set[str] = set()
        dups = []
        for item in inst:
            s = json.dumps(item, sort_keys=True)
            if s in seen:
                dups.append(_shown(item))
            seen.add(s)
        return [(path, f"items must be unique; {', '.join(dups) or 'an item'} appears more than once", None)]
    if v == "minLength":
        return [(path, f"expected {want or 'a non-empty string'}, got {got}", None)]
    if v == "maxLength":
        return [(path, f"expected at most {error.validator_value} characters, got {len(inst)}", None)]
    if v in ("anyOf", "oneOf"):
        if want:
            return [(path, f"expected {want}, got {got}", None)]
        from jsonschema.exceptions import best_match

        # The alternative whose type fits the value says more than "expected a string, got a list".
        fitting = [e for e in error.context or [] if e.validator != "type"]
        best = best_match(fitting or error.context or [])
        return _explain(best) if best is not None else [(path, error.message, None)]
    if v == "not":
        if isinstance(error.validator_value, dict) and "pattern" in error.validator_value:
            return [(path, _not_message(error), None)]
        msg = schema.get("x-message") if isinstance(schema, dict) else None
        # Point at the last of the clashing keys rather than at the mapping holding them.
        clash = [k for k in (error.validator_value or {}).get("required", []) if isinstance(inst, dict) and k in inst]
        where = (f"{path}.{clash[-1]}" if path else clash[-1]) if clash else path
        return [(where, msg or "this combination of keys is not allowed", None)]
    return [(path, error.message, None)]
