"""The plan as GitHub-flavoured Markdown: the sticky pull-request comment and the job summary.

A reviewer reads the summary line first, then a banner when something is destroyed or blocked,
then what changes and why, grouped by model. Unified diffs and unchanged resources are folded
into ``<details>`` so a long plan stays skimmable. GitHub refuses comments over 65,536
characters, so the output is shrunk in steps (diffs dropped first, then the unchanged list, then
the resource list truncated) and always ends within ``limit``, pointing to the full plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mlopsctl.core.model import Action, Change, Plan

MARKER_PREFIX = "<!-- mlopsctl-plan"
"""Every comment this module renders starts with it; the comment command finds its own comment by it."""

_MARKER_RE = re.compile(r"<!-- mlopsctl-plan(?: project=([A-Za-z0-9_.-]*))? -->")

_ICON = {
    Action.CREATE: "🟢",
    Action.UPDATE: "🟡",
    Action.REPLACE: "🟠",
    Action.DELETE: "🔴",
    Action.NOOP: "⚪",
}

_MAX_CELL = 1_500  # one resource's reasons; a runaway reason must not eat the whole comment
_MAX_WARNING = 1_000
_MAX_LISTED = 10  # addresses named in a banner before "and N more"
_DEFAULT_HINT = "the full plan in the `mlops-plan` artifact of this workflow run"


def marker(project: str) -> str:
    """The hidden first line that identifies our comment; one per project, so two projects in a
    repository keep two comments."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", project)
    return f"{MARKER_PREFIX} project={safe} -->" if safe else f"{MARKER_PREFIX} -->"


def find_marker(body: str) -> str | None:
    """The marker a rendered plan (or an existing comment) carries, or None."""
    m = _MARKER_RE.search(body)
    return m.group(0) if m else None


@dataclass(frozen=True)
class _Budget:
    """How much detail one rendering attempt keeps."""

    diffs: bool = True
    noops: bool = True
    rows: int | None = None  # pending changes shown; None = all


def render_markdown(plan: Plan, *, limit: int = 65_000, full_plan_hint: str | None = None) -> str:
    """Render ``plan`` for a PR comment, never longer than ``limit`` characters.

    ``full_plan_hint`` says where the untruncated plan is (e.g. an artifact link); it is shown
    whenever something had to be left out.
    """
    hint = full_plan_hint or _DEFAULT_HINT
    # Grouped by model (project-wide first); within a group the plan's dependency order, which
    # reads like the pipeline: data, training, candidate, registry, image, deployment.
    pending = sorted(plan.pending, key=lambda c: c.model or "")
    for budget in (_Budget(), _Budget(diffs=False), _Budget(diffs=False, noops=False)):
        text = _render(plan, pending, budget, hint)
        if len(text) <= limit:
            return text
    # Binary search for the most rows that fit.
    lo, hi = 0, len(pending)
    best = _render(plan, pending, _Budget(diffs=False, noops=False, rows=0), hint)
    while lo <= hi:
        mid = (lo + hi) // 2
        text = _render(plan, pending, _Budget(diffs=False, noops=False, rows=mid), hint)
        if len(text) <= limit:
            best, lo = text, mid + 1
        else:
            hi = mid - 1
    if len(best) > limit:  # only a pathological header (huge warnings) gets here
        tail = f"\n\n… truncated. See {hint}.\n"
        best = best[: max(0, limit - len(tail))] + tail
        best = best[:limit]
    return best


def _render(plan: Plan, pending: list[Change], budget: _Budget, hint: str) -> str:
    out: list[str] = [marker(plan.project)]
    title = "mlopsctl plan" + (f" · `{plan.project}`" if plan.project else "")
    out.append(f"### {title}\n")
    out.append(f"**{plan.summary()}**\n")
    if plan.destroy:
        out.append("_This is a destroy plan: everything mlopsctl created will be removed._\n")
    out.extend(_banners(plan, pending))
    if plan.targets or plan.excludes:
        scope = [f"target `{t}`" for t in plan.targets] + [f"exclude `{e}`" for e in plan.excludes]
        out.append("Scope: " + ", ".join(scope) + ".\n")

    shown = pending if budget.rows is None else pending[: budget.rows]
    out.extend(_tables(shown))
    left_out = len(pending) - len(shown)
    if left_out:
        out.append(
            f"> [!NOTE]\n> … and **{left_out} more change{'s' if left_out != 1 else ''}** not shown here "
            f"to stay within GitHub's comment size limit. See {hint}.\n"
        )
    with_diff = [c for c in shown if c.diff]
    if with_diff and budget.diffs:
        out.extend(_diff_block(c) for c in with_diff)
    elif with_diff:
        out.append(f"_Diffs are left out to fit GitHub's comment size limit; see {hint}._\n")

    noops = [c for c in plan.changes if c.action is Action.NOOP]
    if noops and budget.noops:
        out.append(_noop_block(noops))
    elif noops:
        out.append(f"_{len(noops)} unchanged resource{'s' if len(noops) != 1 else ''} not listed._\n")

    foot = f"<sub>mlopsctl {plan.mlopsctl_version}" if plan.mlopsctl_version else "<sub>mlopsctl"
    if plan.pins.get("git_head"):
        foot += f" · planned at `{str(plan.pins['git_head'])[:12]}`"
    out.append(foot + "</sub>\n")
    return "\n".join(out)


def _banners(plan: Plan, pending: list[Change]) -> Iterable[str]:
    gone = [c.address for c in pending if c.kind == "deployment" and c.action is Action.DELETE]
    if gone:
        n = len(gone)
        yield _alert(
            "CAUTION",
            f"**This plan deletes {n} deployment{'s' if n != 1 else ''}; {'they stop' if n != 1 else 'it stops'} "
            "serving:** " + _listing(gone),
        )
    deleted = [c for c in pending if c.action in (Action.DELETE, Action.REPLACE)]
    if deleted:
        n = len(deleted)
        yield _alert(
            "CAUTION",
            f"**{n} resource{'s' if n != 1 else ''} will be destroyed"
            f"{' or replaced' if any(c.action is Action.REPLACE for c in deleted) else ''}:** "
            + _listing(c.address for c in deleted),
        )
    blocked = [c for c in pending if c.blocked]
    if blocked:
        n = len(blocked)
        lines = [
            f"**{n} change{'s are' if n != 1 else ' is'} blocked** and apply will refuse {'them' if n != 1 else 'it'}:"
        ]
        lines += [f"- `{c.address}`: {_inline(c.blocked or '', _MAX_WARNING)}" for c in blocked[:_MAX_LISTED]]
        if n > _MAX_LISTED:
            lines.append(f"- … and {n - _MAX_LISTED} more")
        yield _alert("WARNING", "\n".join(lines))
    if plan.warnings:
        lines = [f"- {_inline(w, _MAX_WARNING)}" for w in plan.warnings[:_MAX_LISTED]]
        if len(plan.warnings) > _MAX_LISTED:
            lines.append(f"- … and {len(plan.warnings) - _MAX_LISTED} more")
        yield _alert("WARNING", "\n".join(lines))


def _alert(kind: str, body: str) -> str:
    return "\n".join([f"> [!{kind}]"] + [f"> {line}" if line else ">" for line in body.splitlines()]) + "\n"


def _listing(addresses: Iterable[str]) -> str:
    items = list(addresses)
    text = ", ".join(f"`{a}`" for a in items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        text += f" and {len(items) - _MAX_LISTED} more"
    return text


def _tables(changes: list[Change]) -> Iterable[str]:
    groups: dict[str, list[Change]] = {}
    for c in changes:
        groups.setdefault(c.model or "", []).append(c)
    for model, items in groups.items():
        yield f"#### Model `{model}`\n" if model else "#### Project\n"
        rows = ["| | Resource | Action | Why |", "|---|---|---|---|"]
        rows += [_row(c) for c in items]
        yield "\n".join(rows) + "\n"
        for c in items:
            if c.address.startswith("model.") and isinstance((c.after or {}).get("metrics"), dict):
                yield candidate_block(c.after or {})


def candidate_block(after: dict[str, Any]) -> str:
    """The trained candidate: metrics beside what each environment serves, every gate's verdict,
    and the plots as tables and text charts (folded)."""
    from mlopsctl.render.charts import evaluation_markdown

    metrics: dict[str, float] = after["metrics"]
    served = [d for d in after.get("deltas") or [] if d.get("version") is not None]
    head = "| Metric | Candidate |" + "".join(f" {d['environment']} (v{d['version']}) | Δ |" for d in served)
    out = [f"**Candidate v{after.get('version')}** (trained in this run, not registered)\n", head,
           "|---|---:|" + "---:|---:|" * len(served)]
    for m, v in metrics.items():
        cells = [f"| {_cell(m)} | {_num(v)} |"]
        for d in served:
            row = d["metrics"].get(m)
            cells.append(f" {_num(row[0])} | {_signed(row[2])} |" if row else " — | — |")
        out.append("".join(cells))
    unserved = [d["environment"] for d in after.get("deltas") or [] if d.get("version") is None]
    if unserved:
        out.append(f"\n_{', '.join(unserved)} serve{'s' if len(unserved) == 1 else ''} no version yet._")
    gates = after.get("gates") or []
    if gates:
        out += ["", "| | Gate |", "|---|---|"]
        out += [f"| {'✅' if g['passed'] else '❌'} | {_cell(_inline(g['message'], _MAX_CELL))} |" for g in gates]
    ev = after.get("evaluation")
    if ev:
        out += ["", "<details><summary>Plots (PNGs in the <code>mlops-plots</code> artifact)</summary>\n",
                evaluation_markdown(ev), "</details>"]
    return "\n".join(out) + "\n"


def _num(x: float) -> str:
    return f"{x:.4f}"


def _signed(x: float) -> str:
    return ("+" if x >= 0 else "−") + f"{abs(x):.4f}"


def _row(c: Change) -> str:
    action = c.action.value
    notes = list(c.reasons) or ["—"]
    if c.blocked:
        action += " ⛔ **blocked**"
        notes.append(f"**blocked:** {c.blocked}")
    if c.requires:
        notes.append(f"_needs {c.requires}_")
    why = _cell("<br>".join(_inline(n, _MAX_CELL) for n in notes))
    return f"| {_ICON[c.action]} | `{_cell(c.address)}` | {action} | {why} |"


def _inline(text: str, cap: int) -> str:
    """One line of Markdown: newlines folded, HTML tags neutralised, length capped."""
    text = " ".join(text.split())
    text = text.replace("<", "&lt;")
    if len(text) > cap:
        text = text[: cap - 1] + "…"
    return text


def _cell(text: str) -> str:
    # A pipe ends a table cell even inside backticks on GitHub.
    return text.replace("|", "\\|")


def _diff_block(c: Change) -> str:
    body = (c.diff or "").rstrip("\n")
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return (
        f"<details><summary>Diff of <code>{_html(c.address)}</code></summary>\n\n"
        f"{fence}diff\n{body}\n{fence}\n\n</details>\n"
    )


def _noop_block(noops: list[Change]) -> str:
    n = len(noops)
    items = "\n".join(f"- `{_cell(c.address)}`" for c in sorted(noops, key=lambda c: c.address))
    return f"<details><summary>{n} unchanged resource{'s' if n != 1 else ''}</summary>\n\n{items}\n\n</details>\n"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
