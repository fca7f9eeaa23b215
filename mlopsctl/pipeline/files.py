"""The DVC pipeline as managed files: ``dvc.yaml`` and one ``params/<model>.yaml`` per model.

The stage definitions come from :mod:`mlopsctl.pipeline.stages`, the same code the stage
provider plans with, so what DVC runs and what the plan explains cannot drift apart.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlopsctl.files import Deferred, ManagedFile
from mlopsctl.pipeline.stages import StageDef, dvc_yaml, stage_def

if TYPE_CHECKING:
    from mlopsctl.core.context import Context


def dump_yaml(data: Any) -> str:
    """Block-style YAML, keys in the given order: :mod:`mlopsctl.pipeline.emit` for plain data, else
    PyYAML (its C emitter when it has one); the same text either way."""
    from mlopsctl.pipeline.emit import Unusual, emit

    try:
        return emit(data).rstrip("\n")
    except Unusual:
        pass
    import yaml

    from mlopsctl.files.escape import UnsafeValue

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    try:
        text: str = yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False, width=4096,
                              allow_unicode=True)
    except UnicodeEncodeError as e:  # a lone surrogate from a YAML escape: no file can hold it
        raise UnsafeValue(f"{e.object[e.start:e.end]!r} is not text (a lone surrogate); no file can hold it") from None
    return text.rstrip("\n")


def _yaml(data: Any) -> Deferred:
    """``dump_yaml(data)``, made only when the file is rendered (a remembered render needs no text)."""
    return Deferred(lambda: dump_yaml(data), {"yaml": data, "emitter": _emitter()})


@functools.cache
def _emitter() -> str:
    """The YAML writing code's own digest: a render remembered by its data stays right only while
    the code turning the data into text is the same."""
    import hashlib

    from mlopsctl.pipeline import emit

    h = hashlib.sha256()
    for module in (emit.__file__, __file__):
        with open(module, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


@dataclass(frozen=True)
class _StageDefs:
    """Every model's stage, computed once per run."""

    defs: list[StageDef]


def stage_defs(ctx: Context) -> list[StageDef]:
    """Every model's stage, by model name order; memoised per run."""
    def make() -> _StageDefs:
        models = ctx.project.models
        return _StageDefs([stage_def(name, models[name].data, models[name].path, models[name].model) for name in sorted(models)])

    return ctx.memo(_StageDefs, make).defs


def files(ctx: Context) -> Iterable[ManagedFile]:
    defs = stage_defs(ctx)
    if not defs:
        return
    models = ctx.project.models
    for s in defs:
        doc = models[s.model]
        yield ManagedFile(
            path=s.params_file,
            template="pipeline/params.yaml.j2",
            context={"model": s.model, "spec": doc.path, "body": _yaml(s.params)},
            model=s.model,
            source=doc.loc(""),
        )
    yield ManagedFile(
        path="dvc.yaml",
        template="pipeline/dvc.yaml.j2",
        context={"body": _yaml(dvc_yaml(defs))},
        source=ctx.project.spec.loc(""),
    )
