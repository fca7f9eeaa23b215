"""The templates compiled ahead of time: current, taken only for the very source they were compiled
from, rendering what Jinja's own compilation renders, and naming the template in errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest

from mlopsctl.errors import MlopsError
from mlopsctl.files import compiled, templating
from mlopsctl.workspace import paths

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_envs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Environments made anew in this test (none cached from another)."""
    monkeypatch.setattr(templating, "_ENVS", {})


def _compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names Jinja compiles from their source from now on."""
    seen: list[str] = []
    original = jinja2.Environment.compile

    def compile_(self: Any, source: Any, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        seen.append(name)
        return original(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", compile_)
    return seen


def test_every_compiled_template_is_current() -> None:
    env = templating.environment()
    shipped = {p.name for p in compiled.FOLDER.glob("*_j2.py")}
    expected: set[str] = set()
    for name in env.list_templates():
        try:
            text = templating.compiled_source(env, name)
        except jinja2.TemplateAssertionError:
            continue  # the model card: its own environment's filters
        module = f"{compiled.module_name(name)}.py"
        expected.add(module)
        made_by = re.search(r"compiled by Jinja (\S+) ", (compiled.FOLDER / module).read_text(encoding="utf-8"))
        assert made_by is not None, f"templates/{name} is not compiled: run scripts/make_generated.py"
        if made_by.group(1) == jinja2.__version__:
            assert (compiled.FOLDER / module).read_text(encoding="utf-8") == text, \
                f"templates/{name} changed: run scripts/make_generated.py"
    assert shipped == expected, "run scripts/make_generated.py"
    assert "pipeline_params_yaml_j2.py" in expected and "workflows_plan_yml_j2.py" in expected


def test_the_package_renders_without_compiling_a_template(fresh_envs: None, monkeypatch: pytest.MonkeyPatch) -> None:
    compiles = _compiles(monkeypatch)
    with_compiled = templating.render("pipeline/params.yaml.j2", {"model": "iris", "spec": "models/iris.yaml",
                                                                  "body": "a: 1"})
    assert compiles == []
    monkeypatch.setattr(templating, "_compiled", lambda env, name, source: None)
    monkeypatch.setattr(templating, "_ENVS", {})
    from_source = templating.render("pipeline/params.yaml.j2", {"model": "iris", "spec": "models/iris.yaml",
                                                                "body": "a: 1"})
    assert compiles == ["pipeline/params.yaml.j2"]
    assert with_compiled == from_source and "a: 1\n" in from_source


def test_an_edited_template_is_compiled_from_its_source(fresh_envs: None, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "templates"
    shutil.copytree(paths.TEMPLATES, copy)
    params = copy / "pipeline" / "params.yaml.j2"
    params.write_text(params.read_text(encoding="utf-8") + "# edited: {{ model }}\n", encoding="utf-8")
    compiles = _compiles(monkeypatch)
    out = templating.render("pipeline/params.yaml.j2", {"model": "iris", "spec": "s", "body": "a: 1"},
                            search_path=copy)
    assert out.endswith("# edited: iris\n") and compiles == ["pipeline/params.yaml.j2"]
    # The same source elsewhere is the same template: its compiled module serves it.
    assert templating.render("pipeline/dvc.yaml.j2", {"body": "stages: {}"}, search_path=copy).endswith("stages: {}\n")
    assert compiles == ["pipeline/params.yaml.j2"]


def test_another_environment_setting_is_another_key() -> None:
    env = templating.environment()
    source = env.loader.get_source(env, "pipeline/params.yaml.j2")[0]
    key = templating.compile_key(env, "pipeline/params.yaml.j2", source)
    other = env.overlay(trim_blocks=True)
    assert templating.compile_key(other, "pipeline/params.yaml.j2", source) != key
    assert templating.compile_key(env, "pipeline/params.yaml.j2", source + " ") != key
    assert templating.compile_key(env, "pipeline/dvc.yaml.j2", source) != key


def test_an_error_in_a_compiled_template_names_the_template_and_line(fresh_envs: None,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    compiles = _compiles(monkeypatch)
    with pytest.raises(MlopsError) as e:
        templating.render("pipeline/params.yaml.j2", {"model": "iris", "spec": "s"})
    assert str(e.value).startswith("templates/pipeline/params.yaml.j2:3: undefined variable: 'body' is undefined")
    assert compiles == []


def test_a_fresh_process_renders_with_the_compiled_templates() -> None:
    script = ("import sys, jinja2\n"
              "def refuse(*a, **k): raise SystemExit('compiled ' + str(a[2] if len(a) > 2 else k.get('name')))\n"
              "jinja2.Environment.compile = refuse\n"
              "from mlopsctl.files.templating import render\n"
              "for name, ctx in [('pipeline/params.yaml.j2', {'model': 'm', 'spec': 's', 'body': 'a: 1'}),\n"
              "                  ('pipeline/dvc.yaml.j2', {'body': 'stages: {}'})]:\n"
              "    print(len(render(name, ctx)) > 0)\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ}, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]
