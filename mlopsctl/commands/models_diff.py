"""``mlopsctl models diff A B``: params, metrics, data digests and code commit of two versions,
tags, branches or commits, side by side with deltas (text, Markdown or JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") or "0"
    text = str(value)
    return text[:12] if len(text) >= 32 and all(c in "0123456789abcdef" for c in text) else text


def _delta(row: dict[str, Any]) -> str:
    if row["delta"] is not None:
        d = row["delta"]
        return ("+" if d >= 0 else "-") + (f"{abs(d):.4f}".rstrip("0").rstrip(".") or "0")
    return "changed" if row["changed"] else ""


def render(result: dict[str, Any], fmt: str, changed_only: bool) -> str:
    rows = [r for r in result["rows"] if r["changed"] or not changed_only]
    a, b = result["a"]["label"], result["b"]["label"]
    if fmt == "json":
        return json.dumps(result, indent=2, sort_keys=True, default=str)
    if fmt == "markdown":
        out = [f"### `{result['a']['model']}`: {a} vs {b}", "", f"| | | {a} | {b} | Δ |", "|---|---|---:|---:|---:|"]
        out += [f"| {r['section']} | `{r['key']}` | {_fmt(r['a'])} | {_fmt(r['b'])} | {_delta(r)} |" for r in rows]
        return "\n".join(out) + "\n"
    table = [("", "", a, b, "Δ")] + [(r["section"], r["key"], _fmt(r["a"]), _fmt(r["b"]), _delta(r)) for r in rows]
    widths = [max(len(str(t[i])) for t in table) for i in range(5)]
    lines = [f"{result['a']['model']}: {a} vs {b}"]
    for t in table:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(t, widths, strict=True)).rstrip())
    if not rows:
        lines.append("(no differences)")
    return "\n".join(lines) + "\n"


def run_diff(root: Path, refs: tuple[str, ...], model: str | None, fmt: str, changed_only: bool) -> str:
    from mlopsctl.errors import MlopsError
    from mlopsctl.registry.diff import compare, resolve

    if len(refs) != 2:
        raise MlopsError("models diff needs two references, e.g. `mlopsctl models diff iris@v1 iris@v2` or "
                         "`mlopsctl models diff main my-branch --model iris`")
    a = resolve(root, refs[0], model)
    b = resolve(root, refs[1], model or a.model)
    if a.model != b.model:
        raise MlopsError(f"{refs[0]} is model {a.model!r} but {refs[1]} is {b.model!r}: compare one model")
    return render(compare(a, b), fmt, changed_only)
