"""Continuous training through Git: propose newer labelled data as a pull request.

When the data at ``monitor.retrain.data`` drifted past the threshold from what the newest
version learned, the proposal is one commit on its own branch: the model's data file replaced
by (or extended with) the newer data - tracked by DVC and pushed to the DVC remote when the data
is DVC-tracked - plus ``monitoring/<model>/last-drift.json``, the check that motivated it. The
branch is pushed and a pull request opened through GitHub's REST API with the drift report as
its body. Nothing is ever pushed to the default branch: the PR's plan shows the retraining (with
the drift as its reason), reviewers merge it, and apply on merge trains and registers.

The branch name carries the new data's digest, so a scheduled job that finds the same data again
updates the open pull request instead of opening another one.
"""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlparse

from mlopsctl.errors import MlopsError, Problem, SpecError

if TYPE_CHECKING:
    from mlopsctl.ci.github import GitHub
    from mlopsctl.monitoring.drift import DriftReport
    from mlopsctl.specs.model import Project

BRANCH_PREFIX = "mlopsctl/retrain"


@dataclass
class Proposal:
    status: str
    """no-drift | not-enough-data | up-to-date | created | updated | pushed"""
    report: DriftReport | None
    branch: str | None = None
    pr: dict[str, Any] | None = None
    message: str = ""


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    from mlopsctl.workspace import git

    return git.run(root, *args, env=env).strip()


def _auth_args(root: Path, remote: str, token: str | None) -> list[str]:
    """An Authorization header for an https remote (the workflow's token; never in the URL)."""
    if not token:
        return []
    url = _git(root, "remote", "get-url", remote)
    parsed = urlparse(url)
    if parsed.scheme != "https":
        return []
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return ["-c", f"http.{parsed.scheme}://{parsed.netloc}/.extraheader=AUTHORIZATION: basic {basic}"]


def _write_data(new: Path, target: Path, mode: str, root: Path) -> None:
    """Replace ``target`` with ``new``, or append its rows (columns aligned by name)."""
    from mlopsctl.workspace.fsafe import inside

    inside(root, target)  # the data path was checked at load; a symlink made since is refused here
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.mlopsctl-tmp")
    if mode == "append" and target.is_file():
        import pandas as pd

        old = pd.read_csv(target, dtype=str, keep_default_na=False)
        add = pd.read_csv(new, dtype=str, keep_default_na=False)
        missing = [c for c in old.columns if c not in add.columns]
        if missing:
            raise MlopsError(f"cannot append {new.name} to {target.name}: it lacks the columns {', '.join(missing)}")
        pd.concat([old, add[list(old.columns)]], ignore_index=True).to_csv(tmp, index=False)
    else:
        shutil.copyfile(new, tmp)
    os.replace(tmp, target)


def _open_pull(gh: GitHub, owner: str, branch: str) -> dict[str, Any] | None:
    url = f"{gh.api_url}/repos/{gh.repo}/pulls?state=open&head={quote(f'{owner}:{branch}')}"
    data, _ = gh._request("GET", url, what=f"the pull requests of branch {branch}")
    return dict(data[0]) if isinstance(data, list) and data else None


def pull_body(report: DriftReport, source: str, data_path: str, mode: str) -> str:
    from mlopsctl.monitoring.report import render_markdown

    verb = "replaces" if mode == "replace" else "adds its rows to"
    return (
        f"Newer labelled data for **{report.model}** drifted from what v{report.version} learned, so this pull "
        f"request {verb} `{data_path}` with `{source}`. The plan of this pull request shows the retraining; merging "
        "it trains, evaluates and - if the gates pass - registers a new version.\n\n" + render_markdown(report)
    )


def propose(
    project: Project,
    model: str,
    gh: GitHub | None,
    *,
    remote: str = "origin",
    token: str | None = None,
    log: Any = None,
) -> Proposal:
    """Check ``monitor.retrain.data`` for drift and, past the threshold, propose it as a pull request."""
    import tempfile

    from mlopsctl.monitoring.check import model_doc, run_check, settings
    from mlopsctl.monitoring.current import fetch
    from mlopsctl.monitoring.state import committed_path, write_committed
    from mlopsctl.pipeline.run import run_dvc
    from mlopsctl.workspace.digests import hash_file

    say = log or (lambda _m: None)
    root = Path(project.root)
    doc = model_doc(project, model)
    cfg = settings(doc)
    if not cfg.retrain_data:
        raise SpecError([Problem(doc.loc("monitor"), "no newer data to propose: set monitor.retrain.data "
                                 "(where newer labelled data lands: a repository path or an https:// URL)",
                                 path="monitor.retrain.data")])
    data_rel = doc.model.data.path or ""
    default_branch = project.settings.ci.default_branch
    with tempfile.TemporaryDirectory(prefix="mlopsctl-retrain-") as tmp:
        new = fetch(root, cfg.retrain_data, Path(tmp))
        report = run_check(project, model, data=new, data_shown=cfg.retrain_data, log=say)
        target = root / data_rel
        if target.is_file() and cfg.retrain_mode == "replace" and hash_file(target, "md5") == hash_file(new, "md5"):
            return Proposal("up-to-date", report, message=f"{data_rel} already holds {cfg.retrain_data}")
        if not report.enough:
            return Proposal("not-enough-data", report, message=f"{cfg.retrain_data}: {report.headline()}; "
                            "too few rows to tell drift from noise, nothing to propose")
        if not report.drifted:
            return Proposal("no-drift", report, message=f"{cfg.retrain_data}: {report.headline()}; nothing to propose")
        branch = f"{BRANCH_PREFIX}-{model}-{hash_file(new, 'md5')[:10]}"
        if branch == default_branch:
            raise MlopsError(f"refusing to push to the default branch {default_branch}")
        owner = gh.repo.split("/")[0] if gh else ""
        existing = _open_pull(gh, owner, branch) if gh else None
        body = pull_body(report, cfg.retrain_data, data_rel, cfg.retrain_mode)
        if existing is not None:
            updated = gh._request("PATCH", f"{gh.api_url}/repos/{gh.repo}/pulls/{existing['number']}",  # type: ignore[union-attr]
                                  {"body": body}, what=f"pull request #{existing['number']}")[0]
            return Proposal("updated", report, branch, dict(updated),
                            f"updated the open pull request #{existing['number']} ({branch})")
        if _git(root, "status", "--porcelain", "--untracked-files=no"):
            raise MlopsError("the working tree has uncommitted changes to tracked files; commit or stash them "
                             "before proposing a retraining branch (nothing was changed)")
        start = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
        start = start if start != "HEAD" else _git(root, "rev-parse", "HEAD")
        dvc_file = root / f"{data_rel}.dvc"
        _git(root, "checkout", "-q", "-B", branch)
        try:
            _write_data(new, target, cfg.retrain_mode, root)
            report.data = {"path": data_rel, "md5": hash_file(target, "md5")}
            write_committed(root, report)
            if dvc_file.is_file():
                run_dvc(root, ["add", "-q", data_rel], log=say, what=f"dvc add {data_rel}")
                run_dvc(root, ["push", "-q", f"{data_rel}.dvc"], log=say, what=f"dvc push {data_rel}")
                _git(root, "add", f"{data_rel}.dvc")
            else:
                _git(root, "add", data_rel)
            _git(root, "add", committed_path(model))
            _git(root, "commit", "-q", "-m", f"Retrain {model}: newer data from {cfg.retrain_data}",
                 "-m", f"{report.headline()} against v{report.version}.")
            say(f"pushing {branch} to {remote}")
            _git(root, *_auth_args(root, remote, token), "push", "-q", "--force", remote,
                 f"refs/heads/{branch}:refs/heads/{branch}")
        finally:
            _git(root, "checkout", "-q", "-f", start)
            if dvc_file.is_file():  # put the default branch's data back in the working tree
                run_dvc(root, ["checkout", "-q", f"{data_rel}.dvc"], what=f"dvc checkout {data_rel}")
        if gh is None:
            return Proposal("pushed", report, branch, None, f"pushed {branch}; no GitHub repository to open a PR in")
        title = f"Retrain {model}: {report.headline()}"
        pr = gh._request("POST", f"{gh.api_url}/repos/{gh.repo}/pulls",
                         {"title": title, "head": branch, "base": default_branch, "body": body,
                          "maintainer_can_modify": True}, what=f"a pull request from {branch}")[0]
        return Proposal("created", report, branch, dict(pr), f"opened pull request #{pr.get('number')} ({branch})")
