"""A small real provider for engine tests: 'note' resources are text files under notes/.

It satisfies the Provider protocol against the real file system, so the engine's ordering,
targeting, journal, refresh and staleness are tested without depending on other kinds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlopsctl.core.context import Context
from mlopsctl.core.model import Action, Change, Resource
from mlopsctl.errors import MlopsError
from mlopsctl.specs.model import Project, SpecDoc


class NoteProvider:
    kind = "note"

    def __init__(self, notes: dict[str, dict[str, Any]]) -> None:
        self.notes = notes  # name -> {"text": str, "deps": [...], "fail": bool}
        self.applied: list[str] = []

    def _path(self, ctx: Context, name: str) -> Path:
        return ctx.root / "notes" / f"{name}.txt"

    def expand(self, ctx: Context) -> list[Resource]:
        return [
            Resource("note", name, {"text": n["text"], "upstream": n.get("upstream")},
                     depends_on=tuple(f"note.{d}" for d in n.get("deps", ())), model=n.get("model"))
            for name, n in self.notes.items()
        ]

    def existing(self, ctx: Context) -> list[str]:
        d = ctx.root / "notes"
        return [f"note.{p.stem}" for p in sorted(d.glob("*.txt"))] if d.exists() else []

    def read(self, address: str, desired: Resource | None, ctx: Context) -> dict[str, Any] | None:
        p = self._path(ctx, address.split(".", 1)[1])
        return {"text": p.read_text()} if p.exists() else None

    def diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        if desired is None:
            return Change(address, Action.DELETE, before=actual, reasons=("no longer desired",))
        text = desired.desired["text"]
        up = desired.desired.get("upstream")
        if up:  # text derived from another note's content, known after apply
            up_path = self._path(ctx, up)
            text = text + ":" + (up_path.read_text() if up_path.exists() else "?")
        after = {"text": text}
        if actual is None:
            return Change(address, Action.CREATE, after=after, reasons=("does not exist",))
        if actual["text"] != text:
            return Change(address, Action.UPDATE, before=actual, after=after,
                          reasons=(f"text {actual['text']!r} -> {text!r}",))
        return Change(address, Action.NOOP, before=actual, after=after)

    def apply(self, change: Change, ctx: Context) -> dict[str, Any]:
        name = change.name
        if self.notes.get(name, {}).get("fail"):
            ctx.output(f"{name}: the tool said why, at length")
            raise MlopsError(f"{name} refuses to be written")
        p = self._path(ctx, name)
        p.parent.mkdir(exist_ok=True)
        assert change.after is not None
        ctx.progress(f"writing notes/{name}.txt")
        ctx.output(f"raw output of {name}")
        p.write_text(change.after["text"])
        self.applied.append(change.address)
        return {"bytes": len(change.after["text"])}

    def delete(self, change: Change, ctx: Context) -> None:
        self._path(ctx, change.name).unlink()
        self.applied.append("-" + change.address)


def make_project(root: Path) -> Project:
    spec = SpecDoc("mlops.yaml", {"name": "demo", "environments": {"staging": {}}}, digest="d0")
    return Project(root=root, spec=spec, models={})
