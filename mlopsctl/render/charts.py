"""The evaluation plots as Markdown: tables and text charts a pull-request comment can carry.

GitHub comments cannot embed local images, and sending the plots to a third-party image host
would leak the evaluation; so the comment shows the numbers (a confusion matrix table, areas
under the curves, binned predicted-vs-actual) and monospace charts drawn from the same plot
files ``dvc plots`` reads. The PNGs go to the workflow run's artifacts (``mlopsctl plots``).
"""

from __future__ import annotations

from typing import Any

WIDTH = 41
HEIGHT = 11
_BARS = " ▁▂▃▄▅▆▇█"


def text_chart(points: list[list[float]], *, x_label: str, y_label: str, width: int = WIDTH, height: int = HEIGHT,
               bounds: tuple[float, float, float, float] | None = None, diagonal: bool = False) -> str:
    """A scatter/line of ``points`` on a character grid (``•`` points, ``·`` the diagonal)."""
    if not points:
        return "(no points)"
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1, y0, y1 = bounds or (min(xs), max(xs), min(ys), max(ys))
    if x1 <= x0:
        x1 = x0 + 1
    if y1 <= y0:
        y1 = y0 + 1
    grid = [[" "] * width for _ in range(height)]

    def cell(x: float, y: float) -> tuple[int, int]:
        col = round((x - x0) / (x1 - x0) * (width - 1))
        row = height - 1 - round((y - y0) / (y1 - y0) * (height - 1))
        return min(max(row, 0), height - 1), min(max(col, 0), width - 1)

    if diagonal:
        for i in range(width):
            x = x0 + (x1 - x0) * i / (width - 1)
            r, c = cell(x, x)
            grid[r][c] = "·"
    for x, y in points:
        r, c = cell(x, y)
        grid[r][c] = "•"
    top, bottom = f"{y1:.3g}", f"{y0:.3g}"
    pad = max(len(top), len(bottom), len(y_label))
    lines = [f"{y_label:>{pad}}"]
    for i, row in enumerate(grid):
        tick = top if i == 0 else bottom if i == height - 1 else ""
        lines.append(f"{tick:>{pad}} │{''.join(row).rstrip()}")
    lines.append(" " * pad + " └" + "─" * width)
    left, right = f"{x0:.3g}", f"{x1:.3g}"
    lines.append(" " * (pad + 2) + left + " " * max(1, width - len(left) - len(right)) + right + f"  {x_label}")
    return "\n".join(lines)


def sparkline(values: list[float]) -> str:
    top = max(values, default=0) or 1
    return "".join(_BARS[round(v / top * (len(_BARS) - 1))] for v in values)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _code(text: str) -> str:
    return f"```text\n{text}\n```"


def evaluation_markdown(ev: dict[str, Any]) -> str:
    """The plots of one candidate as Markdown (tables first, then the text charts)."""
    if ev.get("task") == "regression":
        return _regression(ev)
    out: list[str] = []
    conf = ev.get("confusion") or {}
    labels = list(conf.get("labels") or [])
    if labels:
        out.append("Confusion matrix (rows: actual, columns: predicted)\n")
        out.append("| | " + " | ".join(f"**{_cell(lab)}**" for lab in labels) + " |")
        out.append("|---|" + "---:|" * len(labels))
        for lab, row in zip(labels, conf["counts"], strict=True):
            out.append(f"| **{_cell(lab)}** | " + " | ".join(str(n) for n in row) + " |")
        out.append("")
    roc, pr = ev.get("roc") or {}, ev.get("precision_recall") or {}
    if roc.get("points"):
        unit = (0.0, 1.0, 0.0, 1.0)
        out.append(f"ROC (area {_fmt(roc['auc'])}) and precision-recall (area {_fmt(pr.get('auc', 0.0))})\n")
        out.append(_code(text_chart(roc["points"], x_label="false positive rate", y_label="TPR", bounds=unit,
                                    diagonal=True)
                         + "\n\n" + text_chart(pr.get("points") or [], x_label="recall", y_label="precision",
                                               bounds=unit)))
    return "\n".join(out) + "\n"


def _regression(ev: dict[str, Any]) -> str:
    pva = ev.get("predicted_vs_actual") or {}
    res = ev.get("residuals") or {}
    out = ["Predicted vs actual, by tenths of the actual values\n",
           "| actual | rows | mean actual | mean predicted | mean residual |", "|---|---:|---:|---:|---:|"]
    for b in pva.get("bins") or []:
        out.append(f"| {_fmt(b['actual_from'])} – {_fmt(b['actual_to'])} | {b['rows']} | {_fmt(b['mean_actual'])} "
                   f"| {_fmt(b['mean_predicted'])} | {_fmt(b['mean_residual'])} |")
    out.append("")
    pts = pva.get("points") or []
    if pts:
        lo = min(min(p) for p in pts)
        hi = max(max(p) for p in pts)
        chart = text_chart(pts, x_label="actual", y_label="predicted", bounds=(lo, hi, lo, hi), diagonal=True)
        edges = res.get("edges") or [0, 0]
        hist = (f"residuals {_fmt(edges[0])} {sparkline(res.get('histogram') or [])} {_fmt(edges[-1])}  "
                f"(mean {_fmt(res.get('mean', 0.0))}, sd {_fmt(res.get('std', 0.0))})")
        out.append(_code(chart + "\n\n" + hist))
    return "\n".join(out) + "\n"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|")
