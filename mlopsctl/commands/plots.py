"""``mlopsctl plots [MODEL]... [--out DIR] [--format markdown]``: the evaluation plots of the
current training output, as PNG files (the plan workflow uploads them as an artifact) or as
the Markdown tables and text charts of the pull-request comment."""

from __future__ import annotations

from pathlib import Path

import click

from mlopsctl.commands._common import examples
from mlopsctl.commands._planning import emit


@click.command("plots", epilog=examples(
    "mlopsctl plots iris --out plots/  # PNG files of iris's evaluation plots",
    "mlopsctl plots --format markdown  # every model's plots as Markdown text charts",
))
@click.argument("models", nargs=-1)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write PNG files here (one per plot and model).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="What to print: the written files, or the plots as Markdown.")
def plots(models: tuple[str, ...], out_dir: Path | None, fmt: str) -> None:
    """Evaluation plots of MODELS (default: every model with plot files under reports/)."""
    from mlopsctl.commands._common import load_project
    from mlopsctl.errors import MlopsError
    from mlopsctl.render.charts import evaluation_markdown
    from mlopsctl.training.plotfiles import summarize

    project = load_project()
    names = list(models) or sorted(project.models)
    unknown = [m for m in names if m not in project.models]
    if unknown:
        raise MlopsError(f"no model {', '.join(map(repr, unknown))}; the models are: {', '.join(sorted(project.models))}")
    found = 0
    for name in names:
        task = str(project.models[name].data.get("task") or "classification")
        ev = summarize(project.root, name, task)
        if ev is None:
            emit(f"{name}: no plot files under reports/{name}/plots (train it first: mlopsctl train {name})")
            continue
        found += 1
        if out_dir is not None:
            from mlopsctl.render.png import write_pngs

            for path in write_pngs(name, ev, out_dir):
                if fmt == "text":
                    emit(f"{name}: wrote {path}")
        if fmt == "markdown":
            emit(f"#### Plots of `{name}`\n\n" + evaluation_markdown(ev))
        elif out_dir is None:
            emit(f"{name}: " + ", ".join(k for k in ev if k != "task") + f" (reports/{name}/plots)")
    if not found and names:
        raise MlopsError("no model has plot files yet")
