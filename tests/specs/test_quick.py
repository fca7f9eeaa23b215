"""The schemas' quick checkers: the package ships those of its own schemas; any other is kept
compiled in the user's cache folder, and only a file the user alone may write is ever loaded."""

from __future__ import annotations

import json
import marshal
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlopsctl.specs import quick, schema
from tests.builders import model_spec

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "mlopsctl" / "checkers"


def _definition(kind: str = "Model") -> dict:
    """The schema as a definition the package ships no checker for (a ``$comment`` more: the same
    rules, another digest), so the checker is generated and kept."""
    return {**schema._as_draft7(schema.load_schema(kind)), "$comment": "not the shipped definition"}


def _checks(check) -> tuple[bool, bool]:  # type: ignore[no-untyped-def]
    def ok(doc: dict) -> bool:
        try:
            check(doc)
        except Exception:  # noqa: BLE001
            return False
        return True

    return ok(model_spec("iris")), ok({**model_spec("iris"), "zz": 1})


def test_a_checker_is_kept_and_a_later_process_needs_no_fastjsonschema(user_cache: Path) -> None:
    assert _checks(quick.checker("Model", _definition())) == (True, False)
    kept = list(user_cache.iterdir())
    assert len(kept) == 1 and kept[0].stat().st_mode & 0o077 == 0
    script = ("import sys; from tests.specs.test_quick import _checks, _definition; from mlopsctl.specs import quick;"
              "print(*_checks(quick.checker('Model', _definition())), 'fastjsonschema' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ}, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["True", "False", "False"]
    assert list(user_cache.iterdir()) == kept


def test_another_schema_is_another_checker(user_cache: Path) -> None:
    definition = _definition()
    quick.checker("Model", definition)
    strict = json.loads(json.dumps(definition))
    strict["minProperties"] = 1000
    assert _checks(quick.checker("Model", strict)) == (False, False)  # the kept one is not taken
    assert len(list(user_cache.iterdir())) == 2


def _evil_code(marker: Path) -> bytes:
    src = f"open({str(marker)!r}, 'w').write('ran')\n__entry__ = lambda data: None\n"
    return marshal.dumps(compile(src, "<evil>", "exec"))


@pytest.mark.parametrize("how", ["group-writable", "symlink", "garbage"])
def test_a_kept_file_others_could_write_is_never_run(user_cache: Path, tmp_path: Path, how: str) -> None:
    quick.checker("Model", _definition())
    (kept,) = user_cache.iterdir()
    marker = tmp_path / "ran"
    if how == "group-writable":
        kept.write_bytes(_evil_code(marker))
        kept.chmod(0o664)
    elif how == "symlink":
        elsewhere = tmp_path / "elsewhere.bin"
        elsewhere.write_bytes(_evil_code(marker))
        kept.unlink()
        kept.symlink_to(elsewhere)
    else:
        kept.write_bytes(b"\x00not marshal")
    assert _checks(quick.checker("Model", _definition())) == (True, False)
    assert not marker.exists()
    assert not kept.is_symlink() and kept.stat().st_mode & 0o077 == 0  # generated again, in its place
    if how == "symlink":
        assert (tmp_path / "elsewhere.bin").read_bytes() == _evil_code(marker)  # the link's target untouched


def test_an_unwritable_cache_folder_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert _checks(quick.checker("Model", _definition())) == (True, False)


@pytest.mark.parametrize("kind", ["Model", "Project"])
def test_the_kept_checker_is_lean_and_an_unknown_shape_is_left_alone(kind: str) -> None:
    import fastjsonschema

    text = fastjsonschema.compile_to_code(schema._as_draft7(schema.load_schema(kind)), use_default=False,
                                          use_formats=False)
    lean = quick._lean(text)
    assert "locals()" not in lean and len(lean) < len(text) / 2  # no error words, no place names formatted
    odd = text.replace("raise JsonSchemaValueException(", "raise JsonSchemaValueException(\n", 1)
    assert quick._lean(odd) == odd  # a raise over two lines: not this shape, nothing changed


def test_a_relative_xdg_cache_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert quick.user_cache() == str(tmp_path / "home" / ".cache" / "mlopsctl")
    quick.checker("Model", _definition())
    assert not (tmp_path / "cache").exists() and any((tmp_path / "home" / ".cache" / "mlopsctl").rglob("*.bin"))


def test_only_the_newest_checkers_of_a_schema_are_kept(user_cache: Path) -> None:
    definition = _definition()
    for n in range(quick.KEEP + 3):
        variant = json.loads(json.dumps(definition))
        variant["minProperties"] = n  # another schema each time: another checker
        quick.checker("Model", variant)
    quick.checker("Project", _definition("Project"))
    kept = sorted(p.name.partition("-")[0] for p in user_cache.iterdir())
    assert kept == ["model"] * quick.KEEP + ["project"]
    assert _checks(quick.checker("Model", definition)) == (True, False)


# ------------------------------------------------------------------ the checkers the package ships


@pytest.mark.parametrize("kind", ["Model", "Project"])
def test_the_shipped_checker_is_made_from_the_schema_as_it_is_now(kind: str) -> None:
    import fastjsonschema

    from mlopsctl.specs.checkers import FOLDER

    def definition() -> dict:  # anew each time: fastjsonschema's generator adds to the one it is given
        return schema._as_draft7(schema.load_schema(kind))

    assert quick.shipped(kind, quick.definition_digest(definition())) is not None
    assert quick.shipped(kind, quick.definition_digest(_definition(kind))) is None  # another definition: not this
    shipped = (FOLDER / f"{kind.lower()}.py").read_text(encoding="utf-8")
    expected = quick.module_source(kind, definition())
    made_by = re.search(r"generated by fastjsonschema (\S+) ", shipped)
    assert made_by is not None
    if made_by.group(1) == fastjsonschema.VERSION:
        assert shipped == expected, f"schemas/ changed: run scripts/make_generated.py ({kind})"
    else:  # another fastjsonschema generates other text; the definition must still be the one shipped
        assert f'DEFINITION = "{quick.definition_digest(definition())}"' in shipped, \
            f"schemas/ changed: run scripts/make_generated.py ({kind})"


def test_a_fresh_machine_checks_specs_with_the_shipped_checkers(user_cache: Path) -> None:
    script = ("import sys; from mlopsctl.specs import schema; from tests.builders import model_spec, project_spec;"
              "print(schema._quickly_valid('Model', model_spec('iris')),"
              " schema._quickly_valid('Model', {**model_spec('iris'), 'zz': 1}),"
              " schema._quickly_valid('Project', project_spec()), schema._quickly_valid('Project', {'zz': 1}),"
              " 'fastjsonschema' in sys.modules, 'mlopsctl.specs.checkers.model' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ}, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["True", "False", "True", "False", "False", "True"]
    assert not user_cache.exists()  # nothing generated, nothing kept
