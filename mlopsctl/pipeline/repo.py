"""The DVC repository a project lives in: `dvc init`, the default remote the spec names, and the
record of objects pushed to remotes that cannot be listed cheaply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from mlopsctl.errors import MlopsError
from mlopsctl.pipeline import facts

if TYPE_CHECKING:
    from mlopsctl.core.context import Context

PUSHED_FILE = "pushed.json"
"""Objects pushed to remotes that cannot be checked cheaply (S3, ...): url -> [md5, ...]."""


def desired_remote(ctx: Context) -> dict[str, str]:
    remote = ctx.project.settings.remote
    return {"name": remote.name, "url": remote.url or f"../{ctx.project.name}-dvc-remote"}


def same_url(root: Path, desired: str, configured: str) -> bool:
    if facts.is_local_url(desired) and facts.is_local_url(configured):
        d = desired.removeprefix("file://")
        want = Path(d) if Path(d).is_absolute() else (root / d).resolve()
        return want == facts.local_remote_dir(root, configured)
    return desired.rstrip("/") == configured.rstrip("/")


def pushed(root: Path) -> dict[str, list[str]]:
    try:
        data = json.loads((root / ".mlopsctl" / "cache" / PUSHED_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


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


def record_pushed(root: Path, url: str, md5: str) -> None:
    from mlopsctl.workspace.fsafe import write_atomic

    data = pushed(root)
    data.setdefault(url, [])
    if md5 not in data[url]:
        data[url].append(md5)
    write_atomic(root / ".mlopsctl" / "cache" / PUSHED_FILE, json.dumps(data), root=root)
