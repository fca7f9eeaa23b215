"""The DVC repository a project lives in: `dvc init` and the default remote the spec names
(with the ``endpointurl`` of an S3-compatible server)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlopsctl.errors import MlopsError
from mlopsctl.pipeline import facts
from mlopsctl.workspace import steady

if TYPE_CHECKING:
    from mlopsctl.core.context import Context


def desired_remote(ctx: Context) -> dict[str, str]:
    remote = ctx.project.settings.remote
    out = {"name": remote.name, "url": remote.url or f"../{ctx.project.name}-dvc-remote"}
    endpoint = ((ctx.project.spec.data.get("data") or {}).get("remote") or {}).get("endpointurl")
    if endpoint:
        out["endpointurl"] = str(endpoint)
    return out


@steady.per_phase
def same_url(root: Path, desired: str, configured: str) -> bool:
    """The spec's remote url and the configured one name the same remote (local folders resolved)."""
    if facts.is_local_url(desired) and facts.is_local_url(configured):
        d = desired.removeprefix("file://")
        want = (Path(d) if Path(d).is_absolute() else root / d).resolve()
        return want == facts.local_remote_dir(root, configured)
    return desired.rstrip("/") == configured.rstrip("/")


def endpoint_differs(root: Path, remote: dict[str, str]) -> str | None:
    """The configured endpointurl when the spec names another one, else None."""
    want = remote.get("endpointurl")
    if not want:
        return None
    have = facts.read_config(root).get(f'remote "{remote["name"].lower()}"', {}).get("endpointurl", "")
    return None if have.rstrip("/") == want.rstrip("/") else (have or "(none)")


def ensure_dvc(root: Path, remote: dict[str, str], ctx: Context) -> None:
    """``dvc init`` (in the Git repo) and the default remote, when they differ from the spec."""
    from mlopsctl.pipeline.run import run_dvc

    if not (root / ".dvc").is_dir():
        if not (root / ".git").exists():
            raise MlopsError(f"{root} is not a Git repository; run `git init` first (DVC tracks data alongside Git)")
        run_dvc(root, ["init", "-q"], log=ctx.output, progress=ctx.progress)
    have = facts.default_remote(root)
    if have is None or have[0] != remote["name"] or not same_url(root, remote["url"], have[1]):
        url = remote["url"]
        if facts.is_local_url(url):
            local = Path(url.removeprefix("file://"))
            (local if local.is_absolute() else root / local).mkdir(parents=True, exist_ok=True)
        run_dvc(root, ["remote", "add", "-d", "-f", remote["name"], url], log=ctx.output, progress=ctx.progress)
    if endpoint_differs(root, remote) is not None:
        run_dvc(root, ["remote", "modify", remote["name"], "endpointurl", remote["endpointurl"]], log=ctx.output,
                progress=ctx.progress)
