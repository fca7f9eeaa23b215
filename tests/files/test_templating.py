"""Rendering: strict, sandboxed, clear errors, and filters that produce valid YAML and shell."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from mlopsctl.errors import MlopsError
from mlopsctl.files import templating
from mlopsctl.files.templating import render, shell_quote, toyaml, yaml_quote


@pytest.fixture
def tpl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "templates"
    d.mkdir()
    monkeypatch.setattr("mlopsctl.workspace.paths.TEMPLATES", d)
    return d


def write(d: Path, name: str, text: str) -> None:
    (d / name).parent.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text, encoding="utf-8")


def test_render_keeps_trailing_newline_and_no_autoescape(tpl: Path) -> None:
    write(tpl, "a/b.txt.j2", "x={{ x }}\n")
    assert render("a/b.txt.j2", {"x": "<&>"}) == "x=<&>\n"


def test_environment_is_cached_per_directory(tpl: Path) -> None:
    assert templating.environment() is templating.environment()
    assert templating.environment(tpl / "other") is not templating.environment()


def test_undefined_variable_names_template_line_and_variable(tpl: Path) -> None:
    write(tpl, "w.yml.j2", "a: 1\nb: {{ missing }}\n")
    with pytest.raises(MlopsError) as e:
        render("w.yml.j2", {})
    assert str(e.value).startswith("templates/w.yml.j2:2: undefined variable: 'missing' is undefined")


def test_undefined_attribute_fails_even_when_only_tested_by_value(tpl: Path) -> None:
    write(tpl, "w.j2", "{{ model.nmae }}\n")
    with pytest.raises(MlopsError, match="has no attribute 'nmae'"):
        render("w.j2", {"model": {"name": "iris"}})


def test_missing_template_and_missing_include(tpl: Path) -> None:
    with pytest.raises(MlopsError, match=r"template 'nope\.j2' not found"):
        render("nope.j2", {})
    write(tpl, "outer.j2", "{% include 'inner.j2' %}\n")
    with pytest.raises(MlopsError, match=r"template 'inner\.j2' not found \(rendering templates/outer\.j2"):
        render("outer.j2", {})


def test_syntax_error_has_line(tpl: Path) -> None:
    write(tpl, "s.j2", "ok\n{% if %}\n")
    with pytest.raises(MlopsError, match=r"templates/s\.j2:2: template syntax error"):
        render("s.j2", {})


def test_sandbox_blocks_python_internals(tpl: Path) -> None:
    write(tpl, "evil.j2", "{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    with pytest.raises(MlopsError, match=r"templates/evil\.j2"):
        render("evil.j2", {})


@pytest.mark.parametrize(
    "value",
    [
        "on",
        "yes",
        "No",
        "3.10",
        "0o17",
        "*anchor",
        "a: b",
        "- x",
        "#c",
        "",
        "tab\there",
        "line\nbreak",
        "quote\"'",
        "ünïcødé",
        "\u2028",
        "a\u2029b",
        "\x85nel",
        "\x7f",
        "\x00nul",
        "\ufeffbom",
        "😀",
        "null",
        "~",
        3.10,
        7,
        True,
        None,
    ],
)
def test_yaml_quote_round_trips(value: object) -> None:
    assert yaml.safe_load(f"k: {yaml_quote(value)}\n") == {"k": value}
    from ruamel.yaml import YAML

    assert YAML(typ="safe", pure=True).load(f"k: {yaml_quote(value)}\n") == {"k": value}


def test_yaml_quote_rejects_structures() -> None:
    with pytest.raises(MlopsError, match="yaml_quote"):
        yaml_quote({"a": 1})


def test_toyaml_block_round_trips_under_yaml_1_1() -> None:
    value = {"on": ["yes", 1, {"k": "3.10", "l": [True, None]}, [2, "a b"]], "empty": {}, "none": [], "plain": "x/y.z"}
    text = toyaml(value, indent=2)
    assert yaml.safe_load("root:\n  " + text + "\n") == {"root": value}
    assert "plain: x/y.z" in text


def test_shell_quote_is_one_word() -> None:
    nasty = "a b; rm -rf / $(x) 'q'"
    assert shlex.split(shell_quote(nasty)) == [nasty]
    out = subprocess.run(["sh", "-c", f"printf %s {shell_quote(nasty)}"], capture_output=True, text=True, check=True)
    assert out.stdout == nasty


def test_filters_available_in_templates(tpl: Path) -> None:
    write(tpl, "f.j2", "a: {{ s | yaml_quote }}\nb: {{ d | tojson }}\nc: {{ s | shell_quote }}\n")
    out = render("f.j2", {"s": "on", "d": {"x": "<b>"}})
    assert out == 'a: "on"\nb: {"x": "<b>"}\nc: on\n'
