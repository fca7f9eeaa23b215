"""``mlopsctl drift MODEL``: compare current data with what a version was trained on.

The current rows come from ``--data FILE``, from the requests the ``--env`` deployment
captured, or from ``monitor.retrain.data`` (where newer labelled data lands). The report goes
to stdout (text, Markdown or JSON); progress to stderr. Exit 1 on drift with ``--fail-on-drift``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from mlopsctl.commands._common import err, examples, load_project, options


@click.command("drift", epilog=examples(
    "mlopsctl drift iris --env production  # the requests that deployment captured",
    "mlopsctl drift iris --data new.csv --chart drift.png --fail-on-drift  # a file; exit 1 on drift",
))
@click.argument("model")
@click.option("--data", "data", type=click.Path(dir_okay=False), default=None,
              help="Current rows: CSV, JSON lines or Parquet [default: monitor.retrain.data].")
@click.option("--env", "env", default=None, help="Check the requests this environment's deployment captured.")
@click.option("--version", "version", default=None, help="Reference version N or latest "
              "[default: what --env serves, else latest].")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="text table, json, or markdown for an issue or a job summary.")
@click.option("--fail-on-drift", is_flag=True,
              help="Exit 1 when drift passes the threshold (never on \"not enough data\").")
@click.option("--chart", "chart", type=click.Path(dir_okay=False), default=None,
              help="Also write a PNG of the worst features' distributions.")
@click.option("--no-predict", is_flag=True, help="Skip the prediction distribution (no model is loaded).")
def drift(model: str, data: str | None, env: str | None, version: str | None, fmt: str, fail_on_drift: bool,
          chart: str | None, no_predict: bool) -> None:
    """Compare current data with a version's training profile: PSI, KS, chi-square, verdicts."""
    from mlopsctl.monitoring.check import model_doc, run_check, settings
    from mlopsctl.monitoring.current import fetch
    from mlopsctl.monitoring.report import render_json, render_markdown, render_text
    from mlopsctl.monitoring.state import record_local

    project = load_project()
    opts = options()
    with tempfile.TemporaryDirectory(prefix="mlopsctl-drift-") as tmp:
        path: Path | None = None
        shown: str | None = None
        if data is not None:
            path = Path(data) if Path(data).is_absolute() else opts.cwd / data
            shown = data
        elif env is None:
            cfg = settings(model_doc(project, model))
            if cfg.retrain_data:
                path, shown = fetch(project.root, cfg.retrain_data, Path(tmp)), cfg.retrain_data
        report = run_check(project, model, data=path, data_shown=shown, env=env, version=version,
                           predict=not no_predict, log=err)
    record_local(project.root, report)
    if fmt == "json":
        click.echo(render_json(report), nl=False)
    elif fmt == "markdown":
        click.echo(render_markdown(report), nl=False)
    else:
        click.echo(render_text(report, color=opts.color and sys.stdout.isatty()), nl=False)
    if chart:
        from mlopsctl.monitoring.chart import write_chart

        written = write_chart(report, Path(chart) if Path(chart).is_absolute() else opts.cwd / chart)
        err(f"chart written to {written}")
    if fail_on_drift and not report.enough:
        err(f"{model}: {report.headline()}; --fail-on-drift fails only on drift")
    if fail_on_drift and report.drifted:
        err(f"{model}: {report.headline()}")
        sys.exit(1)
