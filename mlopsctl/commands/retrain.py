"""``mlopsctl retrain MODEL``: propose newer labelled data as a pull request when it drifted.

Run by the scheduled monitor workflow after ``drift``. The token comes from the environment
only (GITHUB_TOKEN), never the command line; without ``--repo``/$GITHUB_REPOSITORY the branch is
pushed and no pull request is opened.
"""

from __future__ import annotations

import os
import sys

import click

from mlopsctl.commands._common import err, examples, load_project


@click.command("retrain", epilog=examples(
    "mlopsctl retrain iris  # in the scheduled workflow (GITHUB_TOKEN set)",
    "mlopsctl retrain iris --repo you/models --format markdown  # by hand, the report as Markdown",
))
@click.argument("model")
@click.option("--repo", default=None, metavar="OWNER/NAME", help="Repository [default: $GITHUB_REPOSITORY].")
@click.option("--api-url", default=None, metavar="URL", help="REST API root [default: $GITHUB_API_URL or api.github.com].")
@click.option("--remote", default="origin", show_default=True, help="Git remote to push the branch to.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="How to print the drift report.")
def retrain(model: str, repo: str | None, api_url: str | None, remote: str, fmt: str) -> None:
    """Propose newer labelled data (monitor.retrain.data) as a pull request when it drifted."""
    from mlopsctl.ci.github import DEFAULT_API_URL, GitHub, write_step_summary
    from mlopsctl.monitoring.report import render_markdown, render_text
    from mlopsctl.monitoring.retrain import propose

    project = load_project()
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    repo = repo or os.environ.get("GITHUB_REPOSITORY")
    gh = None
    if repo:
        if not token:
            from mlopsctl.errors import MlopsError

            raise MlopsError("no token: set GITHUB_TOKEN (in a workflow: env: GITHUB_TOKEN: ${{ github.token }})")
        gh = GitHub(repo=repo, token=token, api_url=api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)
    result = propose(project, model, gh, remote=remote, token=token, log=err)
    if result.report is not None:
        md = render_markdown(result.report)
        write_step_summary(md)
        click.echo(md if fmt == "markdown" else render_text(result.report, color=sys.stdout.isatty()), nl=False)
    where = (result.pr or {}).get("html_url")
    err(f"{model}: {result.message}" + (f": {where}" if where else ""))
