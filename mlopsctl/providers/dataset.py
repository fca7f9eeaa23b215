"""Datasets (``dataset.<repo-relative path>``): data files tracked by DVC and pushed to the
project's DVC remote.

Actual state comes from DVC's own files, read without importing dvc (:mod:`mlopsctl.pipeline.facts`):
the ``.dvc`` file's md5 against the file's current md5, the object in the local cache and on
the remote. Apply runs DVC itself (``dvc init``, ``dvc remote add``, ``dvc add``, ``dvc push``)
so the repository is exactly what a DVC user expects. Nothing here ever deletes data: a dataset
no longer named by any spec simply stays tracked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mlopsctl.core.model import Action, Change, Resource, split_address
from mlopsctl.errors import MlopsError
from mlopsctl.pipeline import facts
from mlopsctl.pipeline.repo import desired_remote, endpoint_differs, ensure_dvc, same_url
from mlopsctl.workspace import git

if TYPE_CHECKING:
    from mlopsctl.core.context import Context


class DatasetProvider:
    kind = "dataset"
    reads_alone = True  # read() needs the files alone (core/readers.py)

    def before_reads(self, ctx: Context) -> None:
        facts.stat_cache(ctx)
        facts.default_remote(ctx.root)

    def expand(self, ctx: Context) -> Iterable[Resource]:
        remote = desired_remote(ctx)
        users: dict[str, list[str]] = {}
        first: dict[str, Any] = {}
        for name in sorted(ctx.project.models):
            doc = ctx.project.models[name]
            path = (doc.model.data.path or "").strip().removeprefix("./")
            if not path:
                continue
            users.setdefault(path, []).append(name)
            first.setdefault(path, doc.loc("data.path"))
        for path, models in users.items():
            yield Resource(
                kind=self.kind,
                name=path,
                desired={"path": path, "remote": remote, "models": models},
                source=first[path],
                model=models[0] if len(models) == 1 else None,
            )

    def existing(self, ctx: Context) -> Iterable[str]:
        return ()  # never proposes to untrack data

    def read(self, address: str, desired: Resource | None, ctx: Context) -> dict[str, Any] | None:
        root = ctx.root
        path = split_address(address)[1]
        cache = facts.stat_cache(ctx)
        current = cache.file_md5(path)
        out = facts.read_dvcfile(root, path, cache)
        remote = facts.default_remote(root)
        state: dict[str, Any] = {
            "dvc": (root / ".dvc").is_dir(),
            "remote": {"name": remote[0], "url": remote[1]} if remote else None,
            "tracked_md5": out.get("md5") if out else None,
            "md5": current.md5 if current else None,
        }
        if out is None and current is not None:
            state["in_git"] = git.is_tracked(root, path)
        md5 = state["tracked_md5"]
        if md5:
            state["in_cache"] = facts.in_store(facts.cache_dir(root), md5)
            if remote:
                from mlopsctl.pipeline.remote import present

                # Asked of the remote itself (a cloud remote through DVC): a remote switched, wiped or
                # never pushed to shows as a change.
                state["on_remote"] = present(ctx, [md5])[md5]
        return state

    def diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        if desired is None or actual is None:
            return Change(address, Action.NOOP, before=actual)
        path = desired.desired["path"]
        want = desired.desired["remote"]
        reasons: list[str] = []
        blocked = None
        tracked, md5 = actual.get("tracked_md5"), actual.get("md5")
        if not actual.get("dvc"):
            reasons.append("DVC is not initialised in this repository yet (dvc init)")
        have = actual.get("remote")
        if have is None:
            reasons.append(f"DVC remote {want['name']!r} is not configured as the default ({want['url']})")
        elif have["name"] != want["name"] or not same_url(ctx.root, want["url"], have["url"]):
            reasons.append(f"DVC default remote {have['name']!r} ({have['url']}) -> {want['name']!r} ({want['url']})")
        elif (was := endpoint_differs(ctx.root, want)) is not None:
            reasons.append(f"DVC remote {want['name']!r} endpointurl {was} -> {want['endpointurl']}")
        if md5 is None and tracked is None:
            where = f" ({desired.source})" if desired.source else ""
            blocked = f"data file {path} does not exist{where}: add the file or fix data.path"
            reasons.append(f"{path} does not exist")
        elif md5 is None:
            reasons.append(f"{path} is missing from the working tree; it will be pulled from the DVC remote")
        elif tracked is None:
            reasons.append(f"{path} is not tracked by DVC yet")
            if actual.get("in_git"):
                reasons.append(f"{path} is tracked by Git: it will be removed from Git's index (the file stays) "
                               "and tracked by DVC instead")
        elif tracked != md5:
            reasons.append(f"{path} changed (md5 {tracked[:8]} -> {md5[:8]})")
        else:
            if not actual.get("in_cache"):
                reasons.append(f"{path} is not in the DVC cache")
            if actual.get("on_remote") is False or have is None or have["name"] != want["name"]:
                reasons.append(f"{path} is not pushed to remote {want['name']!r}")
        after = {"path": path, "md5": md5 or tracked, "remote": want["name"]}
        if not reasons:
            return Change(address, Action.NOOP, before=actual, after=after)
        action = Action.CREATE if tracked is None else Action.UPDATE
        return Change(address, action, before=actual, after=after, reasons=tuple(reasons), blocked=blocked)

    def apply(self, change: Change, ctx: Context) -> dict[str, Any] | None:
        from mlopsctl.pipeline.run import run_dvc

        root = ctx.root
        path = change.name
        if change.blocked:
            raise MlopsError(change.blocked)
        want = (change.payload.get("desired") or {}).get("remote") or desired_remote(ctx)
        ensure_dvc(root, want, ctx)
        if not (root / path).exists():
            if not (root / f"{path}.dvc").exists():
                raise MlopsError(f"data file {path} does not exist")
            run_dvc(root, ["pull", f"{path}.dvc"], log=ctx.output, progress=ctx.progress)
        else:
            # Also when only the remote lacks it (a new remote, or a wiped one): add is then a no-op.
            if not (root / f"{path}.dvc").exists() and git.is_tracked(root, path):
                git.run(root, "rm", "--cached", "-q", "--", path)
            run_dvc(root, ["add", path], log=ctx.output, progress=ctx.progress)
            run_dvc(root, ["push", "-r", want["name"], f"{path}.dvc"], log=ctx.output, progress=ctx.progress)
        from mlopsctl.pipeline.remote import forget

        forget(ctx)
        out = facts.read_dvcfile(root, path) or {}
        md5 = out.get("md5")
        return {"path": path, "md5": md5, "remote": want["name"]}

    def delete(self, change: Change, ctx: Context) -> None:
        return None  # data is never deleted or untracked
