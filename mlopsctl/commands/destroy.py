from __future__ import annotations

import click

from mlopsctl.commands._common import examples
from mlopsctl.commands._planning import target_options


@click.command(epilog=examples(
    "mlopsctl destroy  # containers and managed files, after a confirmation",
    "mlopsctl destroy --images --auto-approve  # also the images mlopsctl built, no question",
))
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--images", is_flag=True, help="Also remove the container images mlopsctl built.")
@click.option("--lock-timeout", type=float, default=0.0, show_default=True, metavar="SECONDS",
              help="Wait this long for another apply or destroy to finish.")
@click.option("--allow-destroy-protected", is_flag=True,
              help="Also delete deployments of environments marked protected in mlops.yaml.")
@target_options
def destroy(auto_approve: bool, images: bool, lock_timeout: float, allow_destroy_protected: bool,
            targets: tuple[str, ...], excludes: tuple[str, ...]) -> None:
    """Remove what mlopsctl created: managed files, containers (and images with --images).

    Never user data: datasets, the DVC cache and remote, and registry tags are kept.
    """
    from mlopsctl.commands.apply import run_apply

    run_apply(planfile_path=None, auto_approve=auto_approve, targets=targets, excludes=excludes,
              lock_timeout=lock_timeout, force=False, destroy=True, destroy_images=images,
              allow_destroy_protected=allow_destroy_protected)
