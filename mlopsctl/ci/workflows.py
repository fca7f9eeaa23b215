"""The GitHub Actions workflows mlopsctl renders and keeps up to date as managed files.

Three workflows: the pull-request check (validate, plan, sticky comment), apply on merge (one job
per model), and the scheduled drift checks (only when some model has ``monitor.schedule``). Apply
ends by committing what training recorded (``dvc.lock``, ``.dvc`` files) to the default branch,
so the next run, on a fresh clone, finds the stages done instead of retraining. They
are safe by construction: every action pinned to a full commit SHA, ``permissions: {}`` at the
top and the least each job needs, no event text interpolated into ``run:``, credentials only in
the steps that use them. The project's tests run actionlint, zizmor and GitHub's JSON Schema over
every variant rendered here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mlopsctl import __version__
from mlopsctl.errors import Problem, SpecError
from mlopsctl.files import ManagedFile

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.specs.model import Project

# Full commit SHAs of the release tags named in the comment (Node 24 runtimes). A tag can be
# moved by whoever controls the action's repository; a commit cannot.
ACTIONS: dict[str, tuple[str, str, str]] = {
    "checkout": ("actions/checkout", "08c6903cd8c0fde910a37f88322edcfb5dd907a8", "v5.0.0"),
    "setup_python": ("actions/setup-python", "e797f83bcb11b83ae66e0230d6156d7c80228e7c", "v6.0.0"),
    "cache": ("actions/cache", "cdf6c1fa76f9f475f3d7449005a359c84ca0f306", "v5.0.3"),
    "upload_artifact": ("actions/upload-artifact", "b7c566a772e6b6bfb58ed0dc250532a479d7789f", "v6.0.0"),
    "download_artifact": ("actions/download-artifact", "018cc2cf5baa6db3ef3c5f8a56943fffe632ef53", "v6.0.0"),
}

# The resources of one model, as --target address prefixes for its apply job.
MODEL_TARGETS = ("stage", "model", "registry", "image", "deployment")

# Credentials per DVC remote scheme: environment variable -> repository secret of the same name,
# plus the pip extra DVC needs for that remote.
_REMOTES: dict[str, dict[str, Any]] = {
    "s3": {"pip_extra": "dvc[s3]", "env": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]},
    "azure": {"pip_extra": "dvc[azure]", "env": ["AZURE_STORAGE_CONNECTION_STRING"]},
    "gs": {
        "pip_extra": "dvc[gs]",
        "env": ["GCP_CREDENTIALS_JSON"],
        # gcsfs wants a file path: the step writes the secret to the runner's temp dir first.
        "credentials_file": {
            "secret_env": "GCP_CREDENTIALS_JSON",
            "name": "gcp-credentials.json",
            "var": "GOOGLE_APPLICATION_CREDENTIALS",
        },
    },
    "ssh": {"pip_extra": "dvc[ssh]", "env": []},
    "http": {"pip_extra": "", "env": []},
    "https": {"pip_extra": "", "env": []},
}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*,/?-]+$")
_FILES = {
    "plan": ".github/workflows/mlops-plan.yml",
    "apply": ".github/workflows/mlops-apply.yml",
    "monitor": ".github/workflows/mlops-monitor.yml",
}


def files(ctx: Context) -> Iterable[ManagedFile]:
    """The workflow files the specs ask for (the monitor workflow only with a schedule)."""
    context = workflow_context(ctx.project)
    source = ctx.project.spec.loc("ci") if "ci" in ctx.project.spec.data else ctx.project.spec.loc()
    yield ManagedFile(path=_FILES["plan"], template="workflows/plan.yml.j2", context=context, source=source)
    yield ManagedFile(path=_FILES["apply"], template="workflows/apply.yml.j2", context=context, source=source)
    if context["schedules"]:
        yield ManagedFile(path=_FILES["monitor"], template="workflows/monitor.yml.j2", context=context, source=source)


def workflow_context(project: Project) -> dict[str, Any]:
    """Template variables, all plain JSON data (the plan saves them)."""
    ci = project.settings.ci
    models: list[dict[str, Any]] = [
        {"name": n, "schedule": _schedule(project, n), **_monitoring(project, n)} for n in sorted(project.models)
    ]
    crons: dict[str, list[str]] = {}
    for m in models:
        if m["schedule"]:
            crons.setdefault(m["schedule"], []).append(m["name"])
    return {
        "project": project.name,
        "ci": {
            "python": ci.python,
            "install": ci.install or f"mlopsctl=={__version__}",
            "default_branch": ci.default_branch,
            # A self-hosted runner keeps the Docker engine (and so the deployments) between runs.
            "runs_on": list(ci.runs_on) if isinstance(ci.runs_on, tuple) else ci.runs_on,
        },
        "remote": remote_context(project.settings.remote.url),
        # Images pushed to GitHub's registry: the apply jobs log in with the repository's token.
        "ghcr": str(project.settings.images.repository or "").split("/", 1)[0] == "ghcr.io",
        "models": models,
        "scheduled_models": [m for m in models if m["schedule"]],
        "schedules": [{"cron": cron, "models": names} for cron, names in crons.items()],
        "model_targets": list(MODEL_TARGETS),
        "actions": {key: f"{repo}@{sha} # {tag}" for key, (repo, sha, tag) in ACTIONS.items()},
    }


def remote_context(url: str | None) -> dict[str, Any]:
    """What CI needs to reach the DVC remote: pip extra, secrets, or that it cannot (a local folder)."""
    url = url or ""
    m = _SCHEME.match(url)
    scheme = m.group(1).lower() if m else ""
    if not url or not scheme or scheme == "file":
        return {"url": url, "local": True, "pip_extra": "", "env": [], "credentials_file": None}
    spec = _REMOTES.get(scheme, {"pip_extra": f"dvc[{scheme}]", "env": []})
    return {
        "url": url,
        "local": False,
        "pip_extra": spec["pip_extra"],
        "env": [{"name": var, "secret": var} for var in spec["env"]],
        "credentials_file": spec.get("credentials_file"),
    }


def _schedule(project: Project, name: str) -> str | None:
    doc = project.models[name]
    schedule = doc.model.monitor.schedule if doc.model.monitor else None
    if schedule is None:
        return None
    text = " ".join(str(schedule).split())
    fields = text.split(" ")
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise SpecError([
            Problem(
                doc.loc("monitor.schedule"),
                f"not a cron expression GitHub Actions accepts: {schedule!r}",
                path="monitor.schedule",
                hint='five fields: minute hour day-of-month month day-of-week, e.g. "0 6 * * 1"',
            )
        ])
    return text


def _monitoring(project: Project, name: str) -> dict[str, Any]:
    """How the scheduled job checks one model: the newer labelled data (and then proposes a
    retraining pull request), or the requests its deployments captured (a runner that hosts them)."""
    spec = project.models[name].model
    retrain = spec.monitor is not None and spec.monitor.retrain is not None
    serve = spec.serve
    envs = [env for env in project.environments if env in serve] if not retrain else []
    return {"retrain": retrain, "drift_envs": envs}

