"""The one error handler at the edge: user errors -> message + exit 1, crashes -> one line and a
log with the traceback, Ctrl-C -> 130. ``--debug`` re-raises so the traceback shows."""

from __future__ import annotations

import errno
import os
import sys
import time
import traceback
from typing import Any

import click

from mlopsctl.errors import MlopsError

_ENVIRONMENT = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ELOOP}


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("MLOPSCTL_DEBUG") == "1"


def _log_crash() -> str:
    import tempfile  # only a crash needs it: every command starts without it

    d = os.environ.get("MLOPSCTL_LOG_DIR") or os.path.join(tempfile.gettempdir(), "mlopsctl")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log")
    with open(path, "w", encoding="utf-8") as f:
        f.write(" ".join(sys.argv) + "\n\n")
        traceback.print_exc(file=f)
    return path


def _annotate(e: MlopsError) -> None:
    """On GitHub Actions, spec problems also become annotations on the pull request's diff."""
    from mlopsctl.errors import SpecError

    if os.environ.get("GITHUB_ACTIONS") != "true" or not isinstance(e, SpecError):
        return
    from mlopsctl.ci.annotations import format_annotations

    click.echo(format_annotations(e.problems), nl=False)


def run(cli: click.Group, argv: list[str] | None) -> Any:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    try:
        return cli.main(args=args, prog_name="mlopsctl", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        if debug:
            raise
        click.echo("\nInterrupted.", err=True)
        sys.exit(130)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code if e.exit_code != 2 else 1)
    except MlopsError as e:
        if debug:
            raise
        _annotate(e)
        click.echo(f"Error: {e.message}", err=True)
        sys.exit(e.exit_code)
    except BrokenPipeError:
        sys.exit(1)
    except OSError as e:
        # The machine refused (full disk, read-only or foreign files, a symlink loop) somewhere a
        # library wrote or read: that is the user's to fix, so say what and where, no crash log.
        if debug or e.errno not in _ENVIRONMENT:
            if debug:
                raise
            _crash(e)
        from mlopsctl.workspace.fsafe import describe

        where = f"{e.filename}: " if e.filename else ""
        click.echo(f"Error: {where}{describe(e)}", err=True)
        sys.exit(1)
    except Exception as e:
        if debug:
            raise
        _crash(e)


def _crash(e: BaseException) -> None:
    path = _log_crash()
    click.echo(f"Error: unexpected {type(e).__name__}: {e}\nThe full traceback is in {path} (run with --debug to see it).",
               err=True)
    sys.exit(1)
