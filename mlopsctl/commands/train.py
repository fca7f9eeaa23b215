"""``mlopsctl train MODEL``: the command the DVC stage ``train_<model>`` runs.

Users rarely call it themselves (``mlopsctl apply`` or ``dvc repro`` do), but it works by hand
too: it trains from ``params/<model>.yaml`` (or the spec before the first apply) and writes
``artifacts/<model>/``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from mlopsctl.commands._common import examples, options
from mlopsctl.workspace.paths import find_root


@click.command("train", epilog=examples(
    "mlopsctl train iris  # what `dvc repro train_iris` runs",
    "mlopsctl train iris --quiet --json  # the metrics as JSON, no progress lines",
))
@click.argument("model")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON on stdout.")
def train(model: str, quiet: bool, as_json: bool) -> None:
    """Train MODEL and write artifacts/MODEL/ (model.joblib, lineage.json) and reports/MODEL/ (metrics, plots)."""
    from mlopsctl.training.train import train as run

    console: Any = None
    if not quiet and sys.stderr.isatty():
        from rich.console import Console

        console = Console(stderr=True)
    metrics = run(find_root(options().cwd), model, progress=not quiet, console=console)
    if as_json:
        click.echo(json.dumps(metrics, sort_keys=True))
