"""``mlopsctl comment``: post the Markdown plan as the pull request's one sticky comment.

In a workflow every default comes from the environment GitHub sets (repository, event file,
API URL, token), so the step is one line. The token is read from the environment only: a
token on the command line would show in process listings and logs.
"""

from __future__ import annotations

import os
import sys

import click

from mlopsctl.commands._common import examples
from mlopsctl.errors import MlopsError


@click.command("comment", epilog=examples(
    "mlopsctl plan --format markdown | mlopsctl comment --file -  # in a pull request's workflow",
    "GITHUB_TOKEN=... mlopsctl comment --file plan.md --repo you/models --pr 42  # from elsewhere",
))
@click.option("--file", "file_", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="The Markdown plan ('mlopsctl plan --format markdown'); '-' reads stdin.")
@click.option("--repo", default=None, metavar="OWNER/NAME", help="Repository [default: $GITHUB_REPOSITORY].")
@click.option("--pr", "pr", type=click.IntRange(min=1), default=None,
              help="Pull request number [default: from $GITHUB_EVENT_PATH].")
@click.option("--api-url", default=None, metavar="URL", help="REST API root [default: $GITHUB_API_URL or api.github.com].")
@click.option("--step-summary/--no-step-summary", default=True,
              help="Also append the plan to $GITHUB_STEP_SUMMARY when it is set [default: on].")
def comment(file_: str, repo: str | None, pr: int | None, api_url: str | None, step_summary: bool) -> None:
    """Post or update the sticky plan comment on a pull request (token from $GITHUB_TOKEN)."""
    from mlopsctl.ci.github import DEFAULT_API_URL, GitHub, pr_number_from_event, upsert_comment, write_step_summary
    from mlopsctl.render.markdown import MARKER_PREFIX, find_marker

    body = _read(file_)
    if not body.strip():
        raise MlopsError(f"{file_} is empty: nothing to post")
    marker = find_marker(body)
    if marker is None:
        # Not rendered by mlopsctl: still make it sticky, under the generic marker.
        marker = f"{MARKER_PREFIX} -->"
        body = f"{marker}\n{body}"

    if step_summary:
        write_step_summary(body)

    repo = repo or os.environ.get("GITHUB_REPOSITORY")
    if not repo:
        raise MlopsError("no repository: pass --repo OWNER/NAME (GitHub Actions sets GITHUB_REPOSITORY)")
    number = pr or pr_number_from_event()
    if number is None:
        raise MlopsError("no pull request: pass --pr N (in GitHub Actions it comes from a pull_request event)")
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        raise MlopsError("no token: set GITHUB_TOKEN (in a workflow: env: GITHUB_TOKEN: ${{ github.token }})")

    gh = GitHub(repo=repo, token=token, api_url=api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)
    outcome, posted = upsert_comment(gh, number, body, marker)
    where = posted.get("html_url") or f"{repo}#{number}"
    click.echo(f"{outcome.capitalize()} the plan comment: {where}", err=True)


def _read(file_: str) -> str:
    if file_ == "-":
        return sys.stdin.read()
    try:
        with open(file_, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise MlopsError(f"{file_} does not exist: write it with 'mlopsctl plan --format markdown > {file_}'") from None
    except UnicodeDecodeError:
        raise MlopsError(f"{file_} is not UTF-8 text") from None
    except OSError as e:
        raise MlopsError(f"cannot read {file_}: {e.strerror}") from None
