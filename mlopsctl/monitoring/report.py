"""Present a :class:`~mlopsctl.monitoring.drift.DriftReport`: a terminal table, Markdown, JSON.

The report is data; these functions only render it. Worst feature first, one small bar per
feature scaled so that the threshold sits at a fixed mark, and the verdict in words.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlopsctl.monitoring.drift import DriftReport, FeatureDrift

BAR_WIDTH = 20
THRESHOLD_AT = 10
"""The bar's cell where the threshold falls: half the bar is "as much drift as allowed"."""
MARKER_PREFIX = "<!-- mlopsctl:drift"


def bar(score: float, threshold: float, width: int = BAR_WIDTH) -> str:
    if math.isnan(score):
        return " " * width
    if math.isinf(score):
        return "█" * width
    cells = min(width, score / threshold * THRESHOLD_AT) if threshold > 0 else width
    full = int(cells)
    part = "▏▎▍▌▋▊▉"[int((cells - full) * 7)] if cells - full >= 1 / 7 and full < width else ""
    return ("█" * full + part).ljust(width)


def _num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}f}" if abs(x) >= 10 ** -digits or x == 0 else f"{x:.1e}"


def _test(f: FeatureDrift) -> str:
    if f.test is None:
        return "-"
    return f"{f.test} {_num(f.statistic)} (p {_pval(f.pvalue)})"


def _pval(p: float | None) -> str:
    if p is None or math.isnan(p):
        return "-"
    return "<1e-6" if p < 1e-6 else f"{p:.3g}"


def _pct(x: float) -> str:
    return f"{x:.1%}" if x else "0%"


def _verdict(f: FeatureDrift) -> str:
    if f.too_few:
        return "not enough data"  # the numbers are in the summary line or a note
    if f.kind == "absent":
        return "MISSING COLUMN"
    if math.isnan(f.score):
        return "no data"
    return "DRIFT" if f.drifted else "ok"


def _rows(report: DriftReport) -> list[FeatureDrift]:
    return [*report.features, *([report.prediction] if report.prediction else [])]


def summary_line(report: DriftReport) -> str:
    version = f" v{report.version}" if report.version is not None else ""
    where = f" ({report.environment})" if report.environment else ""
    n = len(report.drifted_features) + (1 if report.prediction and report.prediction.drifted else 0)
    if not report.enough:
        return (f"{report.model}{version}{where}: {report.headline()}; no verdict below monitor.drift.min_rows; "
                f"{report.rows} current rows from {report.source} vs {report.reference_rows} training rows")
    verdict = f"DRIFT in {n} of {len(_rows(report))} checks" if report.drifted else "no drift"
    return (f"{report.model}{version}{where}: {verdict} ({report.method} > {report.threshold:g}); "
            f"{report.rows} current rows from {report.source} vs {report.reference_rows} training rows")


def render_text(report: DriftReport, color: bool = False, width: int = 120) -> str:
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for col, justify in (("FEATURE", "left"), (report.method.upper(), "right"), ("", "left"), ("TEST", "left"),
                         ("MISSING ref→cur", "right"), ("OUT OF CONTRACT", "right"), ("VERDICT", "left")):
        table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for f in _rows(report):
        style = "bold red" if f.drifted else ("dim" if math.isnan(f.score) or f.too_few else "green")
        table.add_row(
            f.name,
            _num(f.score),
            f"[{'red' if f.drifted else 'green'}]{bar(f.score, report.threshold)}[/]",
            _test(f),
            f"{_pct(f.missing_reference)} → {_pct(f.missing_current)}",
            _pct(f.out_of_contract),
            f"[{style}]{_verdict(f)}[/]",
        )
    out = io.StringIO()
    console = Console(file=out, width=width, color_system="standard" if color else None, no_color=not color,
                      highlight=False)
    console.print(summary_line(report), markup=False)
    console.print(table)
    for note in report.notes():
        console.print(f"note: {note}", markup=False, style="yellow")
    tail = f"bar: threshold {report.threshold:g} at the middle; KS against the version's stored training sample."
    console.print(tail, markup=False, style="dim")
    return out.getvalue()


def render_markdown(report: DriftReport) -> str:
    icon = "🔴" if report.drifted else "🟢" if report.enough else "⚪"
    lines = [
        f"{MARKER_PREFIX} model={report.model} -->",
        f"### {icon} Drift check: {report.model}" + (f" v{report.version}" if report.version is not None else ""),
        "",
        (f"**{report.headline()}**. {report.rows} current rows from `{report.source}` against "
         f"{report.reference_rows} training rows; method `{report.method}`, threshold {report.threshold:g}."),
        "",
        f"| feature | {report.method} | | test | missing (ref → cur) | out of contract | verdict |",
        "| --- | ---: | --- | --- | ---: | ---: | --- |",
    ]
    for f in _rows(report):
        verdict = f"**{_verdict(f)}**" if f.drifted else _verdict(f)
        lines.append(
            f"| `{f.name}` | {_num(f.score)} | `{bar(f.score, report.threshold).rstrip() or '·'}` | {_test(f)} | "
            f"{_pct(f.missing_reference)} → {_pct(f.missing_current)} | {_pct(f.out_of_contract)} | {verdict} |"
        )
    note = (f"<sub>checked {report.checked_at} · PSI over reference quantile bins, empty bins floored at 1e-4 · "
            "KS against the version's stored training sample</sub>")
    lines += [*(f"\n> [!NOTE]\n> {n}" for n in report.notes()), "", note, ""]
    return "\n".join(lines)


def render_json(report: DriftReport) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=True, allow_nan=False, default=_safe) + "\n"


def _safe(x: object) -> object:
    return str(x)
