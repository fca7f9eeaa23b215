"""The terminal plan: Terraform's shape, our words.

One line per resource that changes (symbol + address), its reasons indented under it, then
diffs, blocks and required capabilities, then warnings, and the summary line always last so it
is what a person sees at the bottom of a long plan. Resources that do not change are only
counted: a large repository would otherwise bury the five lines that matter.

The rows are built once, as rich's ``Text`` for a terminal in colour; without colour (a log, a
pipe, CI) as :class:`_Plain`, which keeps only the characters: the same text rich would print,
without importing rich (a twentieth of a second: a sixth of a warm plan's instructions at 100 models).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol

from mlopsctl.core.model import Action

if TYPE_CHECKING:
    from rich.console import Console

    from mlopsctl.core.model import Change, Plan


class _Row(Protocol):
    """One row as it is built: rich's ``Text``, or :class:`_Plain`."""

    @property
    def plain(self) -> str: ...

    def append(self, text: str, style: str = ...) -> Any: ...

    def append_text(self, text: Any) -> Any: ...


class _MakeRow(Protocol):
    """rich's ``Text`` class, or :class:`_Plain`."""

    def __call__(self, text: str = ..., style: str = ...) -> _Row: ...


class _Plain:
    """The part of rich's ``Text`` the rows use, keeping the characters and dropping the styles."""

    __slots__ = ("plain",)

    def __init__(self, text: str = "", style: str = "") -> None:
        self.plain = text

    def append(self, text: str, style: str = "") -> _Plain:
        self.plain += text
        return self

    def append_text(self, text: _Row) -> _Plain:
        self.plain += text.plain
        return self


NO_CHANGES = "No changes. Your ML system matches the specs."
MAX_DIFF_LINES = 200
"""A diff longer than this is cut: the plan file (and ``show --format json``) still carries all of it."""

_LEGEND = {
    Action.CREATE: "create",
    Action.UPDATE: "update in place",
    Action.REPLACE: "replace (destroy, then create)",
    Action.DELETE: "destroy",
}
_STYLE = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.REPLACE: "red", Action.DELETE: "red"}
_REASON_INDENT = " " * 6
_DIFF_INDENT = " " * 8


def render_text(plan: Plan, *, color: bool) -> str:
    """The plan for a terminal (or a log when ``color`` is False: then no escape codes at all)."""
    if not color:
        sections = _sections(plan, _Plain)
        # rich prints each row as it is, a tab expanded by cell widths: left to rich (see _rich).
        if not any("\t" in row.plain for rows in sections for row in rows):
            return "\n".join("".join(row.plain + "\n" for row in rows) for rows in sections)
    return _rich(plan, color)


def _rich(plan: Plan, color: bool) -> str:
    from io import StringIO

    from rich.console import Console
    from rich.text import Text

    out = StringIO()
    console = Console(
        file=out,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=100,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
        _environ={},  # the output depends on the arguments only, never on TERM/NO_COLOR/COLUMNS
    )
    _print(console, _sections(plan, Text))
    return out.getvalue()


def _print(console: Console, sections: list[list[_Row]]) -> None:
    for i, rows in enumerate(sections):
        if i:
            console.print()
        for row in rows:
            console.print(row, soft_wrap=True)


def _sections(plan: Plan, Text: _MakeRow) -> list[list[_Row]]:
    """The rows, in sections separated by one blank line; the summary block is always last."""
    sections: list[list[_Row]] = []
    pending = plan.pending
    notes = _scope_notes(plan)
    if notes:
        sections.append([Text(_clean(note), style="dim") for note in notes])
    gone = deleted_deployments(plan)
    if gone:
        n = len(gone)
        sections.append([Text(f"!! This plan DELETES {n} deployment{'s' if n != 1 else ''}: they stop serving: "
                              + ", ".join(_clean(a) for a in gone), style="bold red")])
    if pending:
        legend = [Text("Resource actions are indicated with the following symbols:")]
        for action in sorted({c.action for c in pending}, key=lambda a: a.severity):
            row = _symbol(action, Text)
            row.append(f" {_LEGEND[action]}")
            legend.append(row)
        sections.append(legend)
        sections.append([Text("mlopsctl will perform the following actions:")])
        sections.append([row for change in pending for row in _change_lines(change, Text)])
    if plan.warnings:
        rows = [Text("Warnings:", style="bold yellow")]
        for warning in plan.warnings:
            row = Text("  ! ", style="bold yellow")
            row.append(_indent_rest(warning, "    "))
            rows.append(row)
        sections.append(rows)
    sections.append(_summary(plan, Text))
    return sections


def deleted_deployments(plan: Plan) -> list[str]:
    """Addresses of the deployments this plan deletes (never implied: every renderer says so first)."""
    return [c.address for c in plan.pending if c.kind == "deployment" and c.action is Action.DELETE]


def _summary(plan: Plan, Text: _MakeRow) -> list[_Row]:
    rows: list[_Row] = []
    pending = plan.pending
    noops = len(plan.changes) - len(pending)
    if noops:
        rows.append(Text(f"{noops} resource{'s' if noops != 1 else ''} unchanged.", style="dim"))
    blocked = sum(1 for c in pending if c.blocked)
    if blocked:
        verb = "changes are" if blocked != 1 else "change is"
        rows.append(Text(f'! {blocked} {verb} blocked: see "! blocked" above.', style="bold red"))
    if not pending:
        rows.append(Text(NO_CHANGES, style="bold green"))
        return rows
    counts = plan.counts()
    summary = Text("Plan: ", style="bold")
    for i, (key, label, style) in enumerate(
        (("add", "to add", "green"), ("change", "to change", "yellow"), ("destroy", "to destroy", "red"))
    ):
        if i:
            summary.append(", ", style="bold")
        summary.append(f"{counts[key]} {label}", style=f"bold {style}" if counts[key] else "bold")
    summary.append(".", style="bold")
    rows.append(summary)
    return rows


def _scope_notes(plan: Plan) -> list[str]:
    notes = []
    if plan.destroy:
        notes.append("Destroy plan: removes what mlopsctl created.")
    if plan.targets:
        notes.append("Targeted: " + ", ".join(plan.targets))
    if plan.excludes:
        notes.append("Excluded: " + ", ".join(plan.excludes))
    return notes


def _symbol(action: Action, Text: _MakeRow) -> _Row:
    sym = action.symbol.rjust(3)
    if action is Action.REPLACE:
        # Terraform's "-/+": the destroy half red, the create half green.
        t = Text()
        t.append("-", style="bold red")
        t.append("/")
        t.append("+", style="bold green")
        return t
    return Text(sym, style=f"bold {_STYLE.get(action, '')}".strip())


def _indent_rest(text: str, indent: str) -> str:
    """Continuation lines of a multi-line message line up under its first line."""
    return _clean(text).replace("\n", "\n" + indent)


# Control characters other than newline and tab, shown escaped: a reason quoting a file name or a
# diff of a hand-edited file must not be able to move the cursor or recolour the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _change_lines(change: Change, Text: _MakeRow) -> list[_Row]:
    head = Text()
    head.append_text(_symbol(change.action, Text))
    head.append(" ")
    head.append(_clean(change.address), style="bold")
    rows = [head]
    for reason in change.reasons:
        rows.append(Text(_REASON_INDENT + _indent_rest(reason, _REASON_INDENT)))
    if change.requires:
        rows.append(Text(_REASON_INDENT + "needs " + _indent_rest(change.requires, _REASON_INDENT), style="magenta"))
    if change.blocked:
        rows.append(
            Text(_REASON_INDENT + "! blocked: " + _indent_rest(change.blocked, _REASON_INDENT), style="bold red")
        )
    if change.diff:
        rows.extend(_diff_lines(change.diff, Text))
    return rows


def _diff_lines(diff: str, Text: _MakeRow) -> list[_Row]:
    lines = diff.rstrip("\n").split("\n")
    rows = []
    for raw in lines[:MAX_DIFF_LINES]:
        if raw.startswith(("+++", "---")):
            style = "bold"
        elif raw.startswith("+"):
            style = "green"
        elif raw.startswith("-"):
            style = "red"
        elif raw.startswith("@@"):
            style = "cyan"
        else:
            style = ""
        rows.append(Text(_DIFF_INDENT + _clean(raw), style=style))
    if len(lines) > MAX_DIFF_LINES:
        more = len(lines) - MAX_DIFF_LINES
        rows.append(Text(f"{_DIFF_INDENT}... {more} more diff line{'s' if more != 1 else ''}", style="dim"))
    return rows
