"""The layers contract: each folder of the package imports only downward, providers never import
each other, and only the command line and the plan views talk to the terminal.

The contracts live in pyproject.toml (``[tool.importlinter]``); import-linter checks them on the
real import graph, so a later change cannot cross a layer silently.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUN = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"


def test_layers_contract_is_kept() -> None:
    proc = subprocess.run([sys.executable, "-c", RUN], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "BROKEN" not in out and out.count("KEPT") >= 3, out[-4000:]
