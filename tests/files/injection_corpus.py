"""Hostile spec values and the structure checks that prove they stayed values.

``ACCEPTED`` are one-line values the schemas let through wherever free text is allowed; written
into a generated file they must read back as themselves and change nothing else. ``REFUSED``
break lines (in YAML 1.1, Python, Unicode or a terminal); the schemas refuse them in names,
URLs, branches, image references and paths, and the template filters refuse them too.
"""

from __future__ import annotations

import ast
import re
from typing import Any

ACCEPTED: dict[str, str] = {
    "quotes": "it's \"quoted\"",
    "backslashes": "back\\slash\\\\",
    "command substitution": "$(touch /tmp/pwned)",
    "backticks": "`touch /tmp/pwned`",
    "shell variable": "${HOME}$PATH",
    "comment": "value # not a comment",
    "yaml anchor and tag": "&anchor *anchor !!python/object/apply:os.system [x]",
    "yaml flow": "{a: b}, [c]",
    "yaml mapping": "key: value - item",
    "yaml document": "--- ...",
    "unicode": "ünïcødé ✓ 😀",
    "long": "x" * 5000,
}
GH_EXPRESSION = "${{ github.token }}"
REFUSED: dict[str, str] = {
    "newline": "main\n  shell: evil",
    "carriage return": "a\rb",
    "tab": "a\tb",
    "nul": "a\x00b",
    "escape": "a\x1b[31mb",
    "next line (U+0085)": "a\x85b",
    "line separator (U+2028)": "a\u2028b",
    "paragraph separator (U+2029)": "a\u2029b",
    "lone surrogate": "a\ud83db",
}


def load_yaml(text: str) -> Any:
    """YAML as GitHub and DVC read it (ruamel, YAML 1.2)."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def load_yaml_fast(text: str) -> Any:
    """YAML through libyaml (1.1 rules; ``on`` reads as true): for the many structure comparisons."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def shape(value: Any) -> Any:
    """The structure of parsed data: keys and list lengths kept, every scalar replaced by its type."""
    if isinstance(value, dict):
        return {str(k): shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def runs(doc: Any) -> list[str]:
    """Every ``run:`` script of a workflow, in order."""
    return [str(s.get("run")) for job in doc["jobs"].values() for s in job.get("steps", []) if "run" in s]


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction: continuations joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        word, _, rest = full.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "a continuation runs off the end of the Dockerfile"
    return out


_LABEL = re.compile(r'([^\s=]+)="((?:[^"\\]|\\.)*)"')


def docker_labels(args: str) -> dict[str, str]:
    """The key="value" pairs of one LABEL instruction, unescaped as Docker's lexer does inside
    double quotes (only ``\\"``, ``\\$`` and ``\\\\`` are escapes there)."""
    pairs = _LABEL.findall(args)
    assert _LABEL.sub("", args).strip() == "", f"LABEL has more than key=\"value\" pairs: {args!r}"
    return {k: re.sub(r'\\(["$\\])', r"\1", v) for k, v in pairs}


def python_code(text: str) -> str:
    """The module's AST without its docstring (where spec values may appear as text)."""
    tree = ast.parse(text)
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


_CELL_BAR = re.compile(r"(?<!\\)\|")


def markdown_skeleton(text: str) -> list[str]:
    """Headings, and per table row its number of cells (unescaped ``|``), in order."""
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            out.append(line.split(" ", 1)[0])
        elif line.startswith("|"):
            out.append(f"row of {len(_CELL_BAR.findall(line))}")
    return out
