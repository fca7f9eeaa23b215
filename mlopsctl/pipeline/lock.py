"""Merging the stage records of several ``dvc.lock`` files into one.

With several models, GitHub Actions trains each in its own job, on its own copy of the
repository; each job's ``dvc.lock`` records its own stage anew and every other stage as it was
checked out. The job that runs after them takes, from each file, the stage entries that differ
from the committed ``dvc.lock`` (the one every job started from) and writes them in: the result
is the ``dvc.lock`` one machine would have written after training every model, and the next run
finds every stage done.

Outputs kept in Git rather than the DVC cache (``cache: false``: the metrics, per-group report
and plots under ``reports/``) do not travel through the DVC remote, so the job that trained them
puts them next to its ``dvc.lock``; merging a stage copies each such file in when its content
matches the record.

Entries are copied as DVC wrote them and the file is dumped the way DVC dumps it (ruamel.yaml,
round-trip, block style), so ``dvc status`` reads it and a later ``dvc repro`` rewrites it
without noise. Stages are only added or replaced, never removed: removing a model's stage is
DVC's own business when ``dvc.yaml`` loses it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.errors import MlopsError
from mlopsctl.workspace.digests import read_small

LOCK_FILE = "dvc.lock"
SCHEMA = "2.0"
"""The lock file format of DVC 3 (``schema: '2.0'``); other formats are refused, not guessed at."""
MAX_BYTES = 64 * 1024 * 1024
"""A lock file records digests, not data; anything this big is not one."""


class LockFileError(MlopsError):
    """A file given to merge, or the checked-out ``dvc.lock``, is not a DVC 3 lock file."""


@dataclass
class MergeResult:
    """What :func:`merge` did: ``stage -> file it came from`` for every entry written in."""

    target: Path
    merged: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.merged)


def _yaml() -> Any:
    # The configuration DVC dumps its lock file with (dvc.utils.serialize._yaml): round-trip,
    # block style. The documents here are ruamel's own round-trip maps, so DVC's extra
    # representer for OrderedDict is not needed.
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    return yaml


def _plain(value: Any) -> Any:
    """Plain dicts and lists, so comparing two entries ignores key order and ruamel's styling."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load(path: Path, *, shown: str | None = None) -> Any:
    """The round-trip document of a DVC 3 lock file; :class:`LockFileError` names the file and
    what is wrong when it is missing, not YAML, or not shaped like a ``dvc.lock``."""
    name = shown or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise LockFileError(f"{name}: {size} bytes is too big for a DVC lock file")
        text = read_small(path).decode("utf-8")
    except FileNotFoundError:
        raise LockFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise LockFileError(f"{name}: is a directory, expected a dvc.lock file") from None
    except UnicodeDecodeError:
        raise LockFileError(f"{name}: not a DVC lock file (not UTF-8 text)") from None
    except OSError as e:
        raise LockFileError(f"{name}: cannot read it: {e.strerror or e}") from None
    return parse(text, name)


def parse(text: str, name: str) -> Any:
    """The round-trip document of lock file text; :class:`LockFileError` naming ``name`` when it
    is not YAML or not shaped like a DVC 3 ``dvc.lock``."""
    from ruamel.yaml.error import YAMLError

    try:
        doc = _yaml().load(text)
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark is not None else name
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise LockFileError(f"{where}: not valid YAML ({problem})") from None
    except RecursionError:
        raise LockFileError(f"{name}: not a DVC lock file (nested too deeply)") from None
    _check(doc, name)
    return doc


def _check(doc: Any, name: str) -> None:
    expected = f"expected a DVC 3 lock file (schema: '{SCHEMA}', stages: a mapping of stage name to its record)"
    if not isinstance(doc, dict):
        raise LockFileError(f"{name}: not a DVC lock file: the document is {_kind(doc)}, not a mapping; {expected}")
    schema = doc.get("schema")
    if str(schema) != SCHEMA:
        got = "no schema key" if schema is None else f"schema {schema!r}"
        raise LockFileError(f"{name}: not a DVC 3 lock file ({got}); {expected}")
    stages = doc.get("stages", {})
    if stages is None:
        return
    if not isinstance(stages, dict):
        raise LockFileError(f"{name}: stages: {_kind(stages)} where a mapping belongs; {expected}")
    for stage, entry in stages.items():
        if not isinstance(stage, str) or not isinstance(entry, dict) or not entry.get("cmd"):
            raise LockFileError(f"{name}: stages.{stage}: not a stage record (a mapping with cmd, deps, outs); "
                                f"{expected}")


def committed_stages(root: Path) -> dict[str, Any]:
    """The stage records of ``dvc.lock`` as committed at HEAD: what every job of the run started
    from. Empty when there is no such commit or file (the repository's first training)."""
    from mlopsctl.workspace import git

    committed = git.output(root, "show", f"HEAD:./{LOCK_FILE}")
    if committed is None:
        return {}
    doc = parse(committed.decode("utf-8", errors="replace"), f"{LOCK_FILE} at HEAD")
    return {str(k): _plain(v) for k, v in (doc.get("stages") or {}).items()}


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"


def merge(root: Path, files: Sequence[Path], *, target: Path | None = None) -> MergeResult:
    """Write into ``root/dvc.lock`` (or ``target``) every stage entry of ``files`` that differs
    from the committed ``dvc.lock`` (HEAD), i.e. what the job that wrote the file changed.

    Comparing with the commit rather than the working file keeps a second merge of the same
    files a no-op, and keeps local records of stages no file changed. Every file is read and
    checked before anything is written, and two files that changed one stage differently are
    refused, so a failed merge leaves the lock as it was; the write itself is atomic.
    """
    from ruamel.yaml.comments import CommentedMap

    from mlopsctl.workspace.fsafe import write_atomic

    target = target or root / LOCK_FILE
    shown_target = _shown(root, target)
    if target.exists():
        doc = load(target, shown=shown_target)
    else:
        # The first training run of a repository: the header DVC itself writes first.
        doc = CommentedMap(schema=SCHEMA)
    if doc.get("stages") is None:
        doc["stages"] = CommentedMap()
    base = committed_stages(root)
    result = MergeResult(target=target)
    chosen: dict[str, tuple[str, Any]] = {}
    for path in files:
        shown = _shown(root, path)
        other = load(path, shown=shown)
        for stage, entry in (other.get("stages") or {}).items():
            plain = _plain(entry)
            if base.get(stage) == plain:
                continue  # as committed: the job that wrote this file did not run the stage
            if stage in chosen and _plain(chosen[stage][1]) != plain:
                raise MlopsError(
                    f"{shown}: stage {stage} differs from its record in {chosen[stage][0]}; both files changed "
                    f"it, so neither can be taken without losing the other (nothing was written to {shown_target})"
                )
            chosen.setdefault(stage, (shown, entry))
    sources = {_shown(root, p): Path(os.path.abspath(p)).parent for p in files}
    for stage, (shown, entry) in chosen.items():
        _copy_files(sources[shown], root, entry)
        if _plain(doc["stages"].get(stage)) == _plain(entry):
            continue
        doc["stages"][stage] = entry
        result.merged[stage] = shown
    if result.changed:
        out = io.StringIO()
        _yaml().dump(doc, out)
        write_atomic(target, out.getvalue(), root=root if target == root / LOCK_FILE else None)
    return result


def _copy_files(src: Path, root: Path, entry: Any) -> None:
    """Copy the stage's single-file outputs found next to the source lock whose md5 matches the
    record (a directory output, or one absent there, comes from the DVC remote instead)."""
    import hashlib
    import shutil

    if src == Path(os.path.abspath(root)):
        return
    for out in _plain(entry).get("outs") or ():
        rel = str(out.get("path") or "") if isinstance(out, dict) else ""
        if not rel or rel.startswith(("/", "..")) or ".." in Path(rel).parts:
            continue
        found = src / rel
        if not found.is_file() or found.is_symlink():
            continue
        if hashlib.md5(found.read_bytes(), usedforsecurity=False).hexdigest() != out.get("md5"):
            continue
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found, dest)


def _shown(root: Path, path: Path) -> str:
    """``path`` as a person recognises it: relative to the repository when inside, else absolute."""
    full = Path(os.path.abspath(path))
    try:
        return str(full.relative_to(Path(os.path.abspath(root))))
    except ValueError:
        return str(full)
