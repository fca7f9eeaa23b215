from __future__ import annotations

import re

import pytest

from mlopsctl.core.model import Action, Change, Plan
from mlopsctl.render import render
from mlopsctl.render.text import MAX_DIFF_LINES, NO_CHANGES, render_text
from tests.render.sample_plans import empty_plan, sample_plan
from tests.render.snapshot_files import assert_snapshot

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_plan_snapshot_without_colour() -> None:
    assert_snapshot("plan.txt", render_text(sample_plan(), color=False))


def test_no_changes_snapshot() -> None:
    assert_snapshot("plan-no-changes.txt", render_text(empty_plan(), color=False))


def test_colour_only_when_asked() -> None:
    coloured = render_text(sample_plan(), color=True)
    plain = render_text(sample_plan(), color=False)
    assert "\x1b[" in coloured
    assert "\x1b[" not in plain
    # Colour changes nothing but the escape codes.
    assert ANSI.sub("", coloured) == plain


def test_colours_follow_the_action() -> None:
    out = render_text(sample_plan(), color=True)
    assert "\x1b[1;32m  +\x1b[0m \x1b[1mfile.docker/iris/Dockerfile" in out  # create: green
    assert "\x1b[1;33m  ~\x1b[0m \x1b[1mstage.iris.train" in out  # update: yellow
    assert "\x1b[1;31m  -\x1b[0m \x1b[1mfile.params/old.yaml" in out  # delete: red
    assert "\x1b[32m        +    cmd: mlopsctl train iris --n-estimators 200\x1b[0m" in out
    assert "\x1b[31m        -    cmd: mlopsctl train iris --n-estimators 100\x1b[0m" in out


def test_environment_does_not_change_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    expected_plain = render_text(sample_plan(), color=False)
    expected_colour = render_text(sample_plan(), color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("COLUMNS", "20")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert render_text(sample_plan(), color=False) == expected_plain
    assert render_text(sample_plan(), color=True) == expected_colour


def test_lines_per_resource_reasons_and_summary_last() -> None:
    lines = render_text(sample_plan(), color=False).splitlines()
    assert lines[-1] == "Plan: 2 to add, 3 to change, 2 to destroy."
    i = lines.index("  ~ stage.iris.train")
    assert lines[i + 1 : i + 3] == [
        "      estimator.params.n_estimators 100 -> 200",
        "      reruns because dataset.data/iris.csv changes",
    ]
    assert "-/+ image.iris" in lines
    assert "      needs a Docker engine" in lines
    assert (
        "      ! blocked: the hand edit is not committed to Git; pass --force to overwrite it (a backup is kept)"
        in lines
    )
    assert '! 1 change is blocked: see "! blocked" above.' in lines
    assert "  ! no Docker engine found: image and deployment changes are planned, apply stops at them" in lines


def test_unchanged_resources_are_counted_not_listed() -> None:
    out = render_text(sample_plan(), color=False)
    assert "registry.iris.staging" not in out
    assert "dataset.data/iris.csv\n" not in out.replace("reruns because dataset.data/iris.csv changes", "")
    assert "2 resources unchanged." in out


def test_no_changes() -> None:
    out = render_text(empty_plan(), color=False)
    assert out.splitlines()[-1] == NO_CHANGES
    assert "Resource actions" not in out
    assert render_text(Plan(changes=(), pins={}), color=False) == NO_CHANGES + "\n"


def test_legend_lists_only_the_symbols_used() -> None:
    plan = Plan(changes=(Change("file.a", Action.CREATE, reasons=("new managed file",)),), pins={})
    out = render_text(plan, color=False)
    assert "  + create" in out
    assert "update in place" not in out and "destroy" not in out.replace("0 to destroy", "")
    assert out.splitlines()[-1] == "Plan: 1 to add, 0 to change, 0 to destroy."


def test_text_from_specs_is_never_markup() -> None:
    reason = "estimator.params.class [bold]x[/bold] -> [red]y"
    plan = Plan(changes=(Change("stage.m.train", Action.UPDATE, reasons=(reason, "\x1b[31mfake colour")),), pins={})
    out = render_text(plan, color=True)
    assert reason in out
    assert "\x1b[31mfake" not in out  # control codes from data are shown escaped, never sent to the terminal
    assert "\\x1b[31mfake colour" in out


def test_long_lines_are_not_wrapped() -> None:
    reason = "x" * 300
    plan = Plan(changes=(Change("file.a", Action.UPDATE, reasons=(reason,)),), pins={})
    assert "      " + reason + "\n" in render_text(plan, color=False)


def test_multiline_messages_stay_indented() -> None:
    plan = Plan(changes=(Change("file.a", Action.UPDATE, reasons=("first\nsecond",)),), pins={})
    assert "      first\n      second\n" in render_text(plan, color=False)


def test_long_diffs_are_cut() -> None:
    diff = "--- a/x\n+++ b/x\n" + "".join(f"+line {i}\n" for i in range(MAX_DIFF_LINES + 50))
    plan = Plan(changes=(Change("file.x", Action.UPDATE, diff=diff),), pins={})
    out = render_text(plan, color=False)
    assert f"+line {MAX_DIFF_LINES - 3}" in out
    assert f"+line {MAX_DIFF_LINES - 1}" not in out
    assert "... 52 more diff lines" in out


def test_scope_notes() -> None:
    plan = Plan(
        changes=(Change("stage.iris.train", Action.UPDATE, reasons=("r",)),),
        pins={},
        targets=("stage.iris.train",),
        excludes=("image.iris",),
    )
    out = render_text(plan, color=False)
    assert out.startswith("Targeted: stage.iris.train\nExcluded: image.iris\n\n")


def test_render_dispatches_text() -> None:
    assert render(sample_plan(), "text", color=False) == render_text(sample_plan(), color=False)


def _awkward_plan() -> Plan:
    """Text rich might treat differently from a plain join: wide and combining characters, emoji,
    markup-like brackets, trailing spaces, control characters, multi-line reasons and warnings."""
    diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-名前: 模型  \n+café\u0301: 🚀 [bold]x[/]\n \\x1b[31m\n"
    return Plan(pins={}, changes=(
        Change("file.データ/模型.yaml", Action.CREATE, reasons=("新しい 🚀 file\nsecond line  ",), diff=diff),
        Change("deployment.iris.staging", Action.REPLACE, reasons=("image [red]changed[/red]",),
                requires="docker\nand a registry", blocked="bell \x07 and \x1b[2J escape"),
        Change("file.old", Action.DELETE, reasons=("no spec produces it",)),
        Change("dataset.d", Action.NOOP),
    ), warnings=("a warning\nover two lines", "x" * 300), targets=("stage.*",), excludes=("file.ü",))


@pytest.mark.parametrize("make", [sample_plan, empty_plan, _awkward_plan])
def test_plain_rows_are_what_rich_prints_without_colour(make: object) -> None:
    from mlopsctl.render.text import _rich

    plan = make()  # type: ignore[operator]
    assert render_text(plan, color=False) == _rich(plan, False)
    assert render_text(plan, color=False) == ANSI.sub("", render_text(plan, color=True))


def test_a_tab_is_left_to_rich() -> None:
    from mlopsctl.render.text import _rich

    plan = Plan(pins={}, changes=(Change("file.a", Action.UPDATE, reasons=("x",),
                                diff="--- a\n+++ b\n@@ -1 +1 @@\n-\tindented\n+名\tindented\n"),))
    out = render_text(plan, color=False)
    assert out == _rich(plan, False)
    assert "\t" not in out and "-       indented" in out  # expanded as a terminal shows it


def test_plain_plan_does_not_import_rich() -> None:
    import subprocess
    import sys

    code = ("import sys; from tests.render.sample_plans import sample_plan; "
            "from mlopsctl.render.text import render_text; out = render_text(sample_plan(), color=False); "
            "assert 'Plan: ' in out; print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                          cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert proc.stdout.strip() == "[]", proc.stdout
