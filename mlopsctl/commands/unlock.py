from __future__ import annotations

import click

from mlopsctl.commands._common import examples
from mlopsctl.commands._planning import emit


@click.command(epilog=examples(
    "mlopsctl unlock  # clears the lock only if the process that took it is gone",
    "mlopsctl unlock --force  # a process still seems to hold it, and you are sure it is gone",
))
@click.option("--force", is_flag=True, help="Remove the lock even though a process seems to hold it.")
def unlock(force: bool) -> None:
    """Clear the apply lock left behind by a dead process."""
    from mlopsctl.commands._common import find_state_dir
    from mlopsctl.core.lock import unlock as do_unlock

    emit(do_unlock(find_state_dir(), force=force))
