#!/usr/bin/env python3
"""Write the schemas' quick checkers the package ships (mlopsctl/specs/checkers/).

Run it after editing a schema under schemas/: until then, a plan checks specs with a checker it
generates (and keeps in the user's cache folder), and tests/specs/test_shipped_checkers.py fails.

Run: .venv/bin/python scripts/make_checkers.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlopsctl.specs import quick, schema
from mlopsctl.specs.checkers import FOLDER


def main() -> None:
    for kind in schema.SCHEMA_FILES:
        path = FOLDER / f"{kind.lower()}.py"
        text = quick.module_source(kind, schema._as_draft7(schema.load_schema(kind)))
        if path.exists() and path.read_text(encoding="utf-8") == text:
            print(f"{path.relative_to(ROOT)}: unchanged")
            continue
        path.write_text(text, encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: written")


if __name__ == "__main__":
    main()
