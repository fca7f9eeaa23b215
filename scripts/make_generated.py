#!/usr/bin/env python3
"""Write what the package ships generated: the schemas' quick checkers (mlopsctl/specs/checkers/)
and the templates compiled ahead of time (mlopsctl/files/compiled/).

Run it after editing a schema under schemas/ or a template under templates/. Until then, nothing
stale is used (a plan generates the checker, or compiles the template, itself), and
tests/specs/test_quick.py and tests/files/test_compiled.py fail.

Run: .venv/bin/python scripts/make_generated.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlopsctl.files import compiled, templating
from mlopsctl.specs import checkers, quick, schema


def _write(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        print(f"{path.relative_to(ROOT)}: unchanged")
        return
    path.write_text(text, encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: written")


def main() -> None:
    for kind in schema.SCHEMA_FILES:
        _write(checkers.FOLDER / f"{kind.lower()}.py",
               quick.module_source(kind, schema._as_draft7(schema.load_schema(kind))))
    from jinja2 import TemplateAssertionError

    env = templating.environment()
    wanted: dict[str, str] = {}
    for name in env.list_templates():
        try:
            text = templating.compiled_source(env, name)
        except TemplateAssertionError as e:  # rendered by an environment of its own (the model card's filters)
            print(f"templates/{name}: not compiled here ({e.message})")
            continue
        module = f"{compiled.module_name(name)}.py"
        if module in wanted:
            raise SystemExit(f"templates/{name} and templates/{wanted[module]} have the same module name: rename one")
        wanted[module] = name
        _write(compiled.FOLDER / module, text)
    for stale in sorted(compiled.FOLDER.glob("*_j2.py")):
        if stale.name not in wanted:
            stale.unlink()
            print(f"{stale.relative_to(ROOT)}: removed (no such template)")


if __name__ == "__main__":
    main()
