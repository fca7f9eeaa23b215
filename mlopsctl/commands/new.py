from __future__ import annotations

from pathlib import Path

import click

from mlopsctl.commands._common import examples, options


@click.command(epilog=examples(
    "mlopsctl new my-models && cd my-models && mlopsctl apply  # works on its first apply",
    "mlopsctl new prices --template regressor --base-image mlopsctl/base:bookworm  # no registry here",
))
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--template",
    type=click.Choice(["classifier", "regressor"]),
    default="classifier",
    show_default=True,
    help="classifier: iris species (RandomForestClassifier); regressor: diabetes progression (RandomForestRegressor).",
)
@click.option("--name", default=None, help="Model name (default: iris or diabetes, after the data).")
@click.option("--base-image", default=None, metavar="IMAGE",
              help="Base of the serving images (default python:3.11-slim; a local image where no registry is reachable).")
def new(path: Path, template: str, name: str | None, base_image: str | None) -> None:
    """Scaffold a model repository at PATH (new or empty) that works on its first apply.

    Offline: the data is one of scikit-learn's bundled datasets. The repository gets a first
    commit on main; the CSV is left to DVC (git-ignored), as `dvc add` would.
    """
    from mlopsctl.scaffold.repo import DEFAULT_PORTS, scaffold
    from mlopsctl.serving.ports import free_ports

    target = path if path.is_absolute() else options().cwd / path
    # Ports nothing listens on now, so two scaffolded repositories on one machine do not collide.
    picked = free_ports(2, DEFAULT_PORTS[0])
    done = scaffold(target, template, name, base_image, (picked[0], picked[1]))
    click.echo(f"Created {template} repository {path} (project {done.project}, model {done.model}):")
    for rel in done.files:
        note = "  (git-ignored: DVC tracks it on apply)" if rel == f"data/{done.model}.csv" else ""
        click.echo(f"  {rel}{note}")
    click.echo(f"First commit {done.commit[:12]} on main.")
    click.echo(f"Environments: staging on 127.0.0.1:{picked[0]}, production on 127.0.0.1:{picked[1]} (free now).")
    click.echo("")
    click.echo("Next:")
    click.echo(f"  cd {click.format_filename(path)}")
    click.echo("  mlopsctl plan")
    click.echo("  mlopsctl apply")
