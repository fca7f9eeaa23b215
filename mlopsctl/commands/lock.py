from __future__ import annotations

import click

from mlopsctl.commands._common import Group, examples
from mlopsctl.commands._planning import emit


@click.group(cls=Group, epilog=examples(
    "mlopsctl lock merge other/dvc.lock  # take the stage records another job wrote"))
def lock() -> None:
    """Work with DVC's lock file (dvc.lock), the record of what each stage last ran on."""


@lock.command("merge", epilog=examples(
    "mlopsctl lock merge job-iris/dvc.lock job-wine/dvc.lock  # after the per-model CI jobs",
))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
def lock_merge(files: tuple[str, ...]) -> None:
    """Merge the stage records of other dvc.lock FILES into this repository's dvc.lock.

    Each FILE is a dvc.lock written by another copy of this repository (the per-model jobs of
    the apply workflow); every stage entry that differs from the committed dvc.lock (HEAD) is
    taken, so merging the same files twice changes nothing.
    Nothing is written when any FILE is not a DVC lock file or two FILES changed one stage
    differently.
    """
    from pathlib import Path

    from mlopsctl.commands._common import options
    from mlopsctl.pipeline.lock import LOCK_FILE, merge
    from mlopsctl.workspace.paths import find_root

    cwd = options().cwd
    root = find_root(cwd)
    # FILES are relative to where the command runs (-C included), like every other path argument.
    result = merge(root, [Path(f) if Path(f).is_absolute() else cwd / f for f in files])
    for stage, source in sorted(result.merged.items()):
        emit(f"{LOCK_FILE}: {stage} <- {source}")
    n = len(result.merged)
    emit(f"{LOCK_FILE}: {n} stage record{'s' if n != 1 else ''} merged." if n else f"{LOCK_FILE}: already up to date.")
