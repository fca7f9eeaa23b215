"""Recording a finished training stage the way ``dvc repro`` does, without one DVC process per stage.

After a stage's command ran, DVC hashes its deps and outs, copies the outs into its cache, writes
the stage's entry into ``dvc.lock`` and saves the run in its run cache. This module does the same
in the same formats:

- the entry as :func:`dvc.stage.serialize.to_single_stage_lockfile` builds it: deps and outs
  sorted by path (outs include the metrics and plots kept in Git), each with ``hash: md5``, its
  md5, size and, for a directory, the number of files; the params file's values with top-level
  keys sorted, read as DVC reads them (ruamel.yaml, safe);
- the objects at DVC 3's cache layout (read-only files, a ``.dir`` listing for a directory),
  those kept in Git too, as DVC's run cache commits them;
- the run-cache record ``runs/<key[:2]>/<key>/<value>`` under the cache, with DVC's key (sha256
  of the entry with outs reduced to their paths, sizes left out) and value (the same of the whole
  entry), so ``dvc repro`` and ``plan --train`` elsewhere restore the run instead of training;
- ``/<name>`` in the ``.gitignore`` beside each cached out.

So ``dvc status`` reads the result as up to date and ``dvc repro`` finds nothing to do
(``tests/pipeline/test_record.py`` checks each part against DVC itself).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mlopsctl.pipeline.facts import StatCache, cache_dir, object_path

_SIZE_KEYS = ("size", "nfiles")


def written(stage: dict[str, Any]) -> list[str]:
    """Every output the stage records (``StageDef.written`` of a stage given as data)."""
    own = [] if stage["metrics_in_out"] else [stage["metrics"]]
    return [*stage["outs"], *own, *(stage.get("reports") or ()), *(p for p, _ in stage.get("plots") or ())]


def lock_item(path: str, cache: StatCache, ignore: frozenset[str]) -> dict[str, Any]:
    digest = cache.digest(path, ignore)
    if digest is None:
        raise FileNotFoundError(path)
    out: dict[str, Any] = {"path": path, "hash": "md5", "md5": digest.md5, "size": digest.size}
    if digest.nfiles is not None:
        out["nfiles"] = digest.nfiles
    return out


def params_values(root: Path, params_file: str) -> dict[str, Any]:
    """The params file as DVC reads it (ruamel.yaml, safe), top-level keys sorted."""
    from ruamel.yaml import YAML

    doc = YAML(typ="safe").load((root / params_file).read_text(encoding="utf-8")) or {}
    return {k: doc[k] for k in sorted(doc)} if isinstance(doc, dict) else {}


def stage_inputs(root: Path, stage: dict[str, Any], cache: StatCache, ignore: frozenset[str] = frozenset()
                 ) -> dict[str, Any]:
    """The entry's part that goes into a run (command, deps, params) for ``stage`` (a StageDef
    as data). FileNotFoundError names a dependency that is not there."""
    entry: dict[str, Any] = {"cmd": stage["cmd"]}
    deps = [lock_item(d, cache, ignore) for d in sorted(stage["deps"])]
    if deps:
        entry["deps"] = deps
    params = params_values(root, stage["params_file"])
    if params:
        entry["params"] = {stage["params_file"]: params}
    return entry


def stage_entry(root: Path, stage: dict[str, Any], cache: StatCache, ignore: frozenset[str] = frozenset()
                ) -> dict[str, Any]:
    """The ``dvc.lock`` entry of a stage that just ran. FileNotFoundError names a declared output
    the command did not write."""
    entry = stage_inputs(root, stage, cache, ignore)
    entry["outs"] = [lock_item(o, cache, ignore) for o in sorted(written(stage))]
    return entry


def _drop_sizes(value: Any) -> Any:
    if isinstance(value, list):
        return [_drop_sizes(v) for v in value]
    if isinstance(value, dict):
        return {k: _drop_sizes(v) for k, v in value.items() if k not in _SIZE_KEYS}
    return value


def _sha256(doc: Any) -> str:
    return hashlib.sha256(json.dumps(_drop_sizes(doc), sort_keys=True).encode("utf-8")).hexdigest()


def run_key(entry: dict[str, Any]) -> str:
    """DVC's run-cache key of a stage (``dvc.stage.cache._get_stage_hash``): what went in."""
    return _sha256({**entry, "outs": [o["path"] for o in entry.get("outs") or ()]})


def run_value(entry: dict[str, Any]) -> str:
    """DVC's run-cache value: the whole record, what came out included."""
    return _sha256(entry)


def run_record_path(root: Path, entry: dict[str, Any]) -> Path:
    key = run_key(entry)
    return cache_dir(root) / "runs" / key[:2] / key / run_value(entry)


def dump_yaml(doc: Any) -> str:
    """YAML as DVC dumps its lock file and run records (ruamel.yaml round-trip, block style)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _write_readonly(path: Path, write: Any) -> None:
    """Create ``path`` atomically and read-only (DVC keeps cache objects so), once."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_object(src: Path, dest: Path) -> None:
    """Copy a DVC object into a cache or a local remote: read-only, atomically, once."""
    _write_readonly(dest, lambda tmp: shutil.copyfile(src, tmp))


def save_run(root: Path, entry: dict[str, Any]) -> Path:
    """Save the run-cache record of ``entry``; returns its path."""
    path = run_record_path(root, entry)
    text = dump_yaml(entry)
    _write_readonly(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path


def save_outs(root: Path, entry: dict[str, Any], cache: StatCache, ignore: frozenset[str] = frozenset()) -> None:
    """Store every out of ``entry`` in the DVC cache (cached outs as ``dvc commit`` does, those
    kept in Git as the run cache does)."""
    store = cache_dir(root)
    for out in entry["outs"]:
        md5, full = str(out["md5"]), root / out["path"]
        if not md5.endswith(".dir"):
            copy_object(full, object_path(store, md5))
            continue
        listing, _ = cache.listing(out["path"], ignore) or ([], 0)
        for e in listing:
            copy_object(full / e["relpath"], object_path(store, e["md5"]))
        blob = json.dumps(listing, sort_keys=True)
        _write_readonly(object_path(store, md5), lambda tmp, blob=blob: Path(tmp).write_text(blob, encoding="utf-8"))


def objects(root: Path, outs: list[dict[str, Any]]) -> list[str]:
    """The object names of ``outs`` (a directory's files, then its listing, as DVC pushes them)."""
    store = cache_dir(root)
    names: list[str] = []
    for out in outs:
        md5 = str(out["md5"])
        if md5.endswith(".dir"):
            listing = json.loads(object_path(store, md5).read_text(encoding="utf-8"))
            names += [str(e["md5"]) for e in listing]
        names.append(md5)
    return names


def ignore_outs(root: Path, paths: list[str]) -> None:
    """Add ``/<name>`` for each cached out to the ``.gitignore`` beside it, as DVC does."""
    for rel in paths:
        parent, _, name = rel.rstrip("/").rpartition("/")
        gitignore = root / parent / ".gitignore" if parent else root / ".gitignore"
        line = f"/{name}"
        try:
            text = gitignore.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        if line in text.splitlines():
            continue
        gitignore.parent.mkdir(parents=True, exist_ok=True)
        with open(gitignore, "a", encoding="utf-8") as f:
            f.write(("" if not text or text.endswith("\n") else "\n") + line + "\n")
