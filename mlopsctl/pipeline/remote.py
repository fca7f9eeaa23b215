"""Which objects are in the project's current DVC remote, asked of the remote itself.

A local-folder remote is looked at directly (no dvc import, as for the cache). Any other
remote (S3, GCS, ...) is asked through DVC's own filesystem for it, with every config level
(credentials and ``endpointurl`` included), once per object per run. A remote that cannot be
reached or refuses the credentials is a clear error naming what to check: the plan cannot
say what is missing without it, so it stops rather than guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError
from mlopsctl.pipeline import facts as dvcfacts

if TYPE_CHECKING:
    from mlopsctl.core.context import Context

class Presence(dict[str, dict[str, bool]]):
    """Per run: remote url -> md5 -> whether the remote holds that object."""


def _fix_hint(url: str, error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip()
    low = text.lower()
    if "credential" in low or "accessdenied" in low or "forbidden" in low or "signature" in low:
        hint = ("give it credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (in CI, repository secrets), "
                "or `dvc remote modify --local NAME access_key_id ...`")
    else:
        hint = "check data.remote.url in mlops.yaml, the remote's endpointurl and that the server is reachable"
    return f"cannot read the DVC remote {url}: {text.splitlines()[0][:300]}; {hint}"


def present(ctx: Context, md5s: list[str]) -> dict[str, bool]:
    """md5 -> whether the default remote holds that object (a ``.dir`` object: it and its files)."""
    root = Path(ctx.root)
    remote = dvcfacts.default_remote(root)
    if remote is None:
        return {m: False for m in md5s}
    name, url = remote
    memo = ctx.memo(Presence).setdefault(url, {})
    todo = [m for m in dict.fromkeys(md5s) if m not in memo]
    if todo:
        if dvcfacts.is_local_url(url):
            store = dvcfacts.local_remote_dir(root, url)
            memo.update({m: dvcfacts.in_store(store, m) for m in todo})
        else:
            memo.update(_ask_cloud(root, name, url, todo))
    return {m: memo[m] for m in md5s}


def forget(ctx: Context) -> None:
    ctx.forget(Presence)


def _probe(root: Path, name: str, url: str) -> None:
    """Fail fast on an endpoint nothing listens on (the S3 client would retry for many seconds)."""
    import socket
    from urllib.parse import urlparse

    endpoint = dvcfacts.read_config(root).get(f'remote "{name.lower()}"', {}).get("endpointurl")
    if not endpoint:
        return
    parsed = urlparse(endpoint)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=5):
            pass
    except OSError as e:
        raise MlopsError(_fix_hint(url, ConnectionError(f"endpoint {endpoint} does not answer ({e})"))) from None


def _ask_cloud(root: Path, name: str, url: str, md5s: list[str]) -> dict[str, bool]:
    import json

    from mlopsctl.pipeline.run import dvc_repo

    Repo = dvc_repo()

    _probe(root, name, url)
    try:
        with Repo(str(root)) as repo:
            odb = repo.cloud.get_remote_odb(name, command="plan")
            out: dict[str, bool] = {}
            for md5 in md5s:
                oid_path = odb.oid_to_path(md5)
                if not odb.fs.exists(oid_path):
                    out[md5] = False
                    continue
                if not md5.endswith(".dir"):
                    out[md5] = True
                    continue
                listing: Any = json.loads(odb.fs.cat_file(oid_path))
                out[md5] = all(odb.fs.exists(odb.oid_to_path(e["md5"])) for e in listing
                               if isinstance(e, dict) and "md5" in e)
            return out
    except MlopsError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to read the remote is reported the same way
        raise MlopsError(_fix_hint(url, e)) from None


def transfer(root: Path, md5s: list[str], direction: str, *, runs: Sequence[Path] = ()) -> None:
    """Copy objects (a ``.dir`` object with its files) between the DVC cache and the default
    remote: ``push`` or ``fetch``. Config from every level, as ``dvc push`` would use it.

    ``runs``: run-cache records (paths under the cache) pushed beside the objects, where
    ``dvc push --run-cache`` puts them (``runs/`` at the remote's top)."""
    from mlopsctl.pipeline.run import dvc_repo

    Repo = dvc_repo()
    from dvc_data.hashfile.hash_info import HashInfo
    from dvc_data.hashfile.transfer import transfer as _transfer

    remote = dvcfacts.default_remote(root)
    if remote is None:
        raise MlopsError("no default DVC remote is configured: nothing to push to or fetch from")
    try:
        with Repo(str(root)) as repo:
            cache = repo.cache.local
            odb = repo.cloud.get_remote_odb(remote[0], command=direction)
            src, dest = (cache, odb) if direction == "push" else (odb, cache)
            ids = {HashInfo("md5", m) for m in md5s}
            result = _transfer(src, dest, ids, cache_odb=cache, jobs=4)
            if runs and not result.failed:
                top = repo.cloud.get_remote_odb(remote[0], "push --run-cache", hash_name="md5-dos2unix")
                store = dvcfacts.cache_dir(root)
                for run in runs:
                    target = top.fs.join(top.path, *run.relative_to(store).parts)
                    top.fs.makedirs(top.fs.parent(target), exist_ok=True)
                    top.fs.put_file(str(run), target)
    except MlopsError:
        raise
    except Exception as e:  # noqa: BLE001 - reported with what to check
        raise MlopsError(_fix_hint(remote[1], e)) from None
    if result.failed:
        raise MlopsError(f"could not {direction} {len(result.failed)} object(s) to/from the DVC remote {remote[1]}")
