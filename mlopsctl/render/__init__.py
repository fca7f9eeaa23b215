"""Renderers present a computed :class:`~mlopsctl.core.model.Plan`; they never compute anything.

The plan is data, computed once: the terminal, Markdown and JSON outputs are three views of the
same object, so what a reviewer reads in a PR comment is exactly what apply executes. Every
renderer returns the whole text ending with one newline; commands print it with ``nl=False``.
Renderer modules import their heavy dependencies (rich) lazily so ``--format json`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from mlopsctl.errors import MlopsError

if TYPE_CHECKING:
    from mlopsctl.core.model import Plan

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[str, ...] = ("text", "markdown", "json")


def render(plan: Plan, fmt: str = "text", color: bool = False) -> str:
    """Render ``plan`` as ``text`` (terminal, optionally coloured), ``markdown`` or ``json``."""
    if fmt == "text":
        from mlopsctl.render.text import render_text

        return render_text(plan, color=color)
    if fmt == "markdown":
        from mlopsctl.render.markdown import render_markdown

        return _ensure_newline(render_markdown(plan))
    if fmt == "json":
        from mlopsctl.render.json import render_json

        return render_json(plan)
    raise MlopsError(f"unknown output format {fmt!r}: expected one of {', '.join(FORMATS)}")


def _ensure_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"
