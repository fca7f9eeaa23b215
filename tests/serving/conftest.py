"""One repository with registered versions and their images, shared by every engine test.

Each image build costs tens of seconds, so the images are built once per session: v1 and v2
are good versions (the second only differs in the model, so it reuses every dependency layer),
v3's artifact cannot be loaded in the image (its class lives in this test package), so its
container never gets healthy. Everything labelled with the session's project is removed at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core.context import Context
from mlopsctl.core.model import Action, Change
from mlopsctl.core.plan import diff_one
from tests.serving.image_registry import image_registry  # noqa: F401 - a fixture of the engine tests
from tests.serving.serving_repo import Unloadable, base_image, cleanup, context, fit, new_repo, register, unique_project


@dataclass
class Serving:
    root: Path
    project: str
    models: dict[int, Any]
    """Version -> the fitted Pipeline registered as that version (v3: an unloadable object)."""
    build_logs: dict[int, list[str]] = field(default_factory=dict)
    build_seconds: dict[int, float] = field(default_factory=dict)

    def ctx(self, serve: dict[str, Any], envs: dict[str, int], logs: list[str] | None = None,
            destroy: bool = False) -> Context:
        return context(
            self.root,
            serve={env: {"version": ref} for env, ref in serve.items()},
            project={"environments": {env: {"port": port} for env, port in envs.items()}},
            logs=logs,
            destroy=destroy,
        )

    def plan(self, ctx: Context, kind: str) -> list[Change]:
        """Diff every resource of ``kind`` as the engine would (read + diff, upstream recorded)."""
        from mlopsctl.core.provider import get_provider

        out = []
        for r in get_provider(kind).expand(ctx):
            change = diff_one(ctx, r.address, r)
            ctx.upstream[r.address] = change
            out.append(change)
        return out

    def converge(self, ctx: Context, kind: str) -> list[Change]:
        from mlopsctl.core.provider import get_provider

        changes = self.plan(ctx, kind)
        for change in changes:
            if change.action is not Action.NOOP:
                get_provider(kind).apply(change, ctx)
        return changes


@pytest.fixture(scope="session")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    import time

    project = unique_project()
    root = new_repo(tmp_path_factory.mktemp("serving"), project=project, base=base_image(),
                    envs={"staging": 8101}, serve={"staging": {"version": "latest"}})
    models = {1: fit(root, n_estimators=10), 2: fit(root, n_estimators=30), 3: Unloadable()}
    for version, obj in models.items():
        register(root, obj, version)
    s = Serving(root=root, project=project, models=models)
    try:
        for version in (1, 2):
            logs: list[str] = []
            start = time.monotonic()
            s.converge(s.ctx({"e": version}, {"e": 8101}, logs=logs), "image")
            s.build_seconds[version] = time.monotonic() - start
            s.build_logs[version] = logs
        yield s
    finally:
        cleanup(project)


@pytest.fixture(scope="module")
def images(serving: Serving) -> Serving:
    """The session's images of v1, v2 and v3, built again if an earlier module destroyed them."""
    for version in (1, 2, 3):
        serving.converge(serving.ctx({"e": version}, {"e": 8101}), "image")
    return serving
