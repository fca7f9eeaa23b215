"""A repository, a template directory and a file set for driving the file provider directly.

``make_files_env`` (wrap it in a fixture) gives a committed Git repository, a
private template directory, and a file set the test fills with ManagedFile entries; the
provider sees them through the real ``FILE_SETS`` registry, and expand/read/diff/apply are
called the way the engine calls them, without the engine.
"""

from __future__ import annotations

import importlib.machinery
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core.context import Context
from mlopsctl.core.model import Action, Change
from mlopsctl.files import ManagedFile
from mlopsctl.specs.model import Project, SpecDoc

FILESET_MODULE = "mlopsctl_test_fileset"


@dataclass
class FilesEnv:
    root: Path
    templates: Path
    files: list[ManagedFile] = field(default_factory=list)

    def template(self, name: str, text: str) -> None:
        p = self.templates / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        # Templates are compiled once per process; a test that rewrites one starts afresh.
        from mlopsctl.files import templating

        templating._ENVS.pop(str(self.templates), None)

    def add(self, path: str, template: str, mode: int = 0o644, **context: Any) -> ManagedFile:
        mf = ManagedFile(path=path, template=template, context=context, mode=mode)
        self.files[:] = [f for f in self.files if f.path != path] + [mf]
        return mf

    def ctx(self, *, force: bool = False, destroy: bool = False) -> Context:
        spec = SpecDoc(path="mlops.yaml", data={"name": "demo", "environments": {"staging": {"port": 8101}}})
        return Context(
            root=self.root, project=Project(self.root, spec, {}), force=force, destroy=destroy, log=lambda _msg: None
        )

    def plan(self, ctx: Context | None = None) -> dict[str, Change]:
        """What the engine does: expand, add existing-but-undesired, read and diff each."""
        from mlopsctl.providers.file import FileProvider

        ctx = ctx or self.ctx()
        p = FileProvider()
        desired = {r.address: r for r in p.expand(ctx)}
        addresses = list(desired) + sorted(set(p.existing(ctx)) - set(desired))
        out = {}
        for a in addresses:
            actual = p.read(a, desired.get(a), ctx)
            out[a] = p.diff(a, desired.get(a), actual, ctx)
        return out

    def apply(self, changes: dict[str, Change], ctx: Context | None = None) -> dict[str, Any]:
        from mlopsctl.providers.file import FileProvider

        ctx = ctx or self.ctx()
        p = FileProvider()
        facts = {}
        for a, c in changes.items():
            if c.action is Action.DELETE:
                p.delete(c, ctx)
            elif c.action is not Action.NOOP:
                facts[a] = p.apply(c, ctx)
        return facts

    def read(self, path: str) -> str:
        return (self.root / path).read_text(encoding="utf-8")

    def write(self, path: str, text: str) -> None:
        p = self.root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


def make_files_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FilesEnv:
    """Set up a FilesEnv under ``tmp_path``; ``monkeypatch`` undoes the registry changes after the test."""
    from mlopsctl import files as files_pkg
    from tests.builders import git

    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("demo\n", encoding="utf-8")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "init")
    env = FilesEnv(root=root, templates=tmp_path / "templates")
    env.templates.mkdir()

    module = types.ModuleType(FILESET_MODULE)
    module.__spec__ = importlib.machinery.ModuleSpec(FILESET_MODULE, None)
    module.files = lambda ctx: list(env.files)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, FILESET_MODULE, module)
    monkeypatch.setattr(files_pkg, "FILE_SETS", {"test": f"{FILESET_MODULE}:files"})
    monkeypatch.setattr(files_pkg, "MANAGED_GLOBS", [*files_pkg.MANAGED_GLOBS, "out/*", "out/*/*", "notes.md"])
    monkeypatch.setattr("mlopsctl.workspace.paths.TEMPLATES", env.templates)
    return env
