"""The one git runner and the one HEAD reader of mlopsctl.

Every git command goes through :func:`run` (or :func:`output` for questions whose failure is an
answer). It runs the ``git`` program rather than GitPython: GitPython runs that same program for
most operations and costs ~0.1 s of import on every plan, which the plan path cannot afford.

``head_commit`` reads ``.git`` directly (HEAD, loose refs, packed-refs; worktrees and
``gitdir:`` files included) because it runs on every plan. Questions asked only when something
unusual was found (is this hand edit committed?) use the ``git`` command: slower, but it
knows every storage detail (filters, object formats, reftables).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, overload

from mlopsctl.errors import MlopsError

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def git_dir(root: Path | str) -> Path | None:
    """The ``.git`` directory of the repository containing ``root`` (following ``gitdir:`` files)."""
    start = Path(root).resolve()
    for d in (start, *start.parents):
        dotgit = d / ".git"
        if dotgit.is_dir():
            return dotgit
        if dotgit.is_file():
            try:
                text = dotgit.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return None
            if not text.startswith("gitdir:"):
                return None
            target = Path(text[len("gitdir:") :].strip())
            return target if target.is_absolute() else (d / target).resolve()
    return None


def _common_dir(gdir: Path) -> Path:
    """Where shared refs live: a worktree's gitdir names it in its ``commondir`` file."""
    try:
        rel = (gdir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return gdir
    p = Path(rel)
    return p if p.is_absolute() else (gdir / p).resolve()


def _packed_ref(common: Path, ref: str) -> str | None:
    try:
        text = (common / "packed-refs").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if not line or line[0] in "#^":
            continue
        sha, _, name = line.partition(" ")
        if name.strip() == ref:
            return sha
    return None


def _resolve(gdir: Path, common: Path, ref: str, depth: int = 0) -> str | None:
    if depth > 5:
        return None
    for base in (gdir, common):
        try:
            text = (base / ref).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text.startswith("ref:"):
            return _resolve(gdir, common, text[4:].strip(), depth + 1)
        return text if _SHA.match(text) else None
    return _packed_ref(common, ref)


class _Unusual(Exception):
    """The on-disk layout is one we do not read ourselves (e.g. reftable): ask git."""


def head_commit(root: Path | str) -> str | None:
    """The commit HEAD points at, or None (not a repository, or no commit yet)."""
    gdir = git_dir(root)
    if gdir is None:
        return None
    try:
        return _head_from_files(gdir)
    except _Unusual:
        return _head_from_git(root)


def _head_from_files(gdir: Path) -> str | None:
    common = _common_dir(gdir)
    if (common / "reftable").is_dir():
        raise _Unusual
    try:
        head = (gdir / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise _Unusual from None
    if _SHA.match(head):
        return head  # detached HEAD
    if not head.startswith("ref:"):
        raise _Unusual
    return _resolve(gdir, common, head[4:].strip())  # None: an unborn branch


def _head_from_git(root: Path | str) -> str | None:
    out = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    return out.decode().strip() if out is not None else None


def _spawn(root: Path | str, args: tuple[str, ...], data: bytes | None, env: Mapping[str, str] | None,
           timeout: float) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=root, input=data, capture_output=True, check=False, timeout=timeout,
                          env={**os.environ, **env} if env else None)


@overload
def run(root: Path | str, *args: str, input: str | None = ..., env: Mapping[str, str] | None = ...,
        timeout: float = ..., binary: bool = False) -> str: ...
@overload
def run(root: Path | str, *args: str, input: bytes | None = ..., env: Mapping[str, str] | None = ...,
        timeout: float = ..., binary: bool = True) -> bytes: ...
def run(root: Path | str, *args: str, input: str | bytes | None = None, env: Mapping[str, str] | None = None,
        timeout: float = 300, binary: bool = False) -> str | bytes:
    """stdout of ``git ARGS`` run in ``root``; a clear :class:`MlopsError` when it fails.

    ``env`` adds to the environment (never replaces it); ``binary`` returns bytes.
    """
    data = input.encode() if isinstance(input, str) else input
    try:
        proc = _spawn(root, args, data, env, timeout)
    except FileNotFoundError:
        raise MlopsError("git is not installed: mlopsctl keeps the specs, the registry and the audit trail in Git; "
                         "install it (Debian: apt-get install git)") from None
    except subprocess.TimeoutExpired:
        raise MlopsError(f"git {' '.join(args[:2])} did not finish within {timeout:.0f} s in {root}") from None
    except OSError as e:
        raise MlopsError(f"cannot run git in {root}: {e}") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
        raise MlopsError(f"git {' '.join(args[:2])} failed in {root}: {detail}")
    return proc.stdout if binary else proc.stdout.decode("utf-8", "replace")


def read(root: Path | str, *args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a read-only git question a plan asks, declared as a probe
    (:mod:`mlopsctl.workspace.observe`): a reused plan asks it again and compares the answers."""
    from mlopsctl.workspace import observe

    rc, out, err = observe.probe("git", [str(root), *args], lambda: probe_read(str(root), *args))
    return rc, out, err


def read_tags(root: Path | str, *args: str) -> tuple[int, str, str]:
    """:func:`read` of ``git for-each-ref ... refs/tags``, recorded as the files that hold the
    tags instead of asked again: the loose refs under ``refs/tags`` (each folder listed, each
    file stat'ed), ``packed-refs`` and ``refs/replace`` (a replaced tag object reads otherwise).
    Tag objects never change; a moved tag is a changed ref file. For the same reason the answer is
    kept (:class:`_KeptTags`) and given again while those files stat the same. A repository keeping
    its refs in a reftable is asked again, as a probe."""
    from mlopsctl.workspace import observe

    gdir = git_dir(root)
    common = _common_dir(gdir) if gdir is not None else None
    if common is None or (common / "reftable").exists():
        return read(root, *args)

    kept = _KeptTags(Path(root), args)
    before = _ref_files(common)
    answer = kept.get(before)
    if answer is not None:
        return answer
    after: list[list[list[Any]] | None] = []

    def look() -> None:
        after.append(_ref_files(common))

    rc, out, err = observe.covered(lambda: probe_read(str(root), *args), look)
    now = after[0] if after else _ref_files(common)
    if rc == 0 and before is not None and now == before:  # no tag moved while git read them
        kept.put(before, [rc, out, err])
    return rc, out, err


def _ref_files(common: Path) -> list[list[Any]] | None:
    """The files that hold the tags, each with its stat key: ``packed-refs`` and every file under
    ``refs/tags`` and ``refs/replace`` (a replaced tag object reads otherwise), in walk order; None
    when one was written within a timestamp tick (its stat may not show a next write yet). Stat'ed
    through ``os``, so a plan's record holds them too."""
    from mlopsctl.workspace.digests import stat_key, too_recent

    out: list[list[Any]] = []
    racy = False
    paths = [str(common / "packed-refs")]
    for top in (common / "refs" / "tags", common / "refs" / "replace"):
        for dirpath, _dirs, files in os.walk(top):
            paths += [os.path.join(dirpath, name) for name in sorted(files)]
        top.exists()
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            out.append([path])
            continue
        racy = racy or too_recent(st.st_mtime_ns) or too_recent(st.st_ctime_ns)
        out.append([path, *stat_key(st)])
    return None if racy else out


class _KeptTags:
    """The last ``for-each-ref`` answer about the tags, kept in ``.mlopsctl/cache/tags.json`` with
    the stat keys of the files that hold the tags. Tag objects never change (they are named by
    their content), so while those files stat the same the answer is the same, and a plan need not
    start git (about 0.05 s at 1,000 tags). The ``GIT_*`` environment is part of the question."""

    def __init__(self, root: Path, args: tuple[str, ...]) -> None:
        self.root = root
        self.path = root / ".mlopsctl" / "cache" / "tags.json"
        env = sorted([k, v] for k, v in os.environ.items() if k.startswith("GIT_"))  # lists: as JSON reads back
        self.question = [1, list(args), env]

    def get(self, files: list[list[Any]] | None) -> tuple[int, str, str] | None:
        """The kept answer when it was given while the tags' files were ``files``; else None."""
        if files is None:
            return None
        import json

        try:
            with open(self.path, encoding="utf-8") as f:
                kept = json.load(f)
            if kept["question"] != self.question or kept["files"] != files:
                return None
            rc, out, err = kept["answer"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not (rc == 0 and isinstance(out, str) and isinstance(err, str)):
            return None
        return rc, out, err

    def put(self, files: list[list[Any]] | None, answer: list[Any]) -> None:
        if files is None:
            return
        import json

        from mlopsctl.workspace.fsafe import write_atomic

        try:
            write_atomic(self.path, json.dumps({"question": self.question, "files": files, "answer": answer}),
                         root=self.root, durable=False)
        except (OSError, MlopsError):
            pass  # a cache that cannot be written only costs time


def probe_read(root: str, *args: str) -> list[Any]:
    """``[exit status, stdout, stderr]`` of ``git ARGS`` in ``root``, for :func:`read` and for a
    reused plan asking again. Only the reads plans ask are run, whatever a record file says."""
    options = args[1:args.index("--")] if "--" in args else args[1:]
    if not args or args[0] not in _READS or any(
            a.startswith("-") and a not in _READ_FLAGS and not a.startswith(("--format=", "--untracked-files="))
            for a in options):
        raise ValueError(f"git {' '.join(args)[:80]} is not a read a plan asks")
    proc = completed(root, *args, timeout=300)
    return [proc.returncode, proc.stdout, proc.stderr]


STATUS = ["status", "--porcelain", "-z", "--untracked-files=all"]
"""The ``git status`` a plan asks (:func:`mlopsctl.registry.record.tree_state`)."""


def probe_paths(args: list[str], kept: Any, now: Any) -> set[str] | None:
    """Where two answers of the :data:`STATUS` probe differ: the absolute paths whose entries
    differ (a rename's both paths), or None when they differ otherwise (exit status, stderr) or
    the question is another one. Porcelain paths are relative to the top of the work tree."""
    if len(args) != 1 + len(STATUS) or args[1:] != STATUS:
        return None
    (rc_a, out_a, err_a), (rc_b, out_b, err_b) = kept, now
    if rc_a != rc_b or err_a != err_b or rc_a != 0:
        return None
    a, b = _status_entries(str(out_a)), _status_entries(str(out_b))
    return {os.path.join(args[0], p) for p in a.keys() | b.keys() if a.get(p) != b.get(p)}


def _status_entries(out: str) -> dict[str, tuple[str, str, str | None]]:
    """:func:`status_entries` by path (a rename's or copy's under both of its paths)."""
    by_path: dict[str, tuple[str, str, str | None]] = {}
    for entry in status_entries(out):
        by_path[entry[1]] = entry
        if entry[2] is not None:
            by_path[entry[2]] = entry
    return by_path


def status_entries(out: str) -> list[tuple[str, str, str | None]]:
    """``git status --porcelain -z`` as ``(XY, path, source)``: the source of a rename or a copy
    (the field that follows it), else None."""
    found: list[tuple[str, str, str | None]] = []
    fields = out.split("\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        source = None
        if "R" in entry[:2] or "C" in entry[:2]:
            source = fields[i] if i < len(fields) else ""
            i += 1
        found.append((entry[:2], entry[3:], source))
    return found


_READS = frozenset({"for-each-ref", "status", "symbolic-ref", "ls-files"})
_READ_FLAGS = frozenset({"--porcelain", "-z", "-q", "--error-unmatch"})


def output(root: Path | str, *args: str, data: bytes | None = None) -> bytes | None:
    """stdout of a git question whose failure is an answer (not a repository, no such object):
    None when git fails or is missing."""
    try:
        proc = _spawn(root, args, data, None, 60)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def completed(root: Path | str, *args: str, input: str | None = None, env: Mapping[str, str] | None = None,
              timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``git ARGS`` as a finished process (text), for callers that read its exit code and both
    streams themselves; a missing git is a clear :class:`MlopsError`."""
    try:
        proc = _spawn(root, args, None if input is None else input.encode(), env, timeout)
    except FileNotFoundError:
        raise MlopsError("git is not installed: mlopsctl keeps the specs, the registry and the audit trail in Git; "
                         "install it (Debian: apt-get install git)") from None
    except subprocess.TimeoutExpired:
        raise MlopsError(f"git {' '.join(args[:2])} did not finish within {timeout:.0f} s in {root}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def spawn(root: Path | str, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A long-lived ``git ARGS`` in ``root`` talking over pipes (a batch mode such as ``update-ref
    --stdin``): the caller writes requests, reads answers, and closes its stdin to end it."""
    try:
        return subprocess.Popen(["git", *args], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env={**os.environ, **env} if env else None)
    except FileNotFoundError:
        raise MlopsError("git is not installed: mlopsctl keeps the specs, the registry and the audit trail in Git; "
                         "install it (Debian: apt-get install git)") from None
    except OSError as e:
        raise MlopsError(f"cannot run git in {root}: {e}") from None


_git = output


def committed_blob_id(root: Path | str, relpath: str) -> str | None:
    """Object id of ``relpath`` (relative to ``root``) in the HEAD commit, or None."""
    out = _git(root, "rev-parse", "--verify", "--quiet", f"HEAD:./{relpath}")
    if out is None:
        return None
    oid = out.decode().strip()
    return oid if _SHA.match(oid) else None


def blob_id(data: bytes, object_format: str = "sha1") -> str:
    """The id Git gives a blob with exactly these bytes."""
    h = hashlib.new(object_format)
    h.update(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def committed_blob_equals(root: Path | str, relpath: str, data: bytes) -> bool:
    """Whether exactly ``data`` is what ``relpath`` holds in the commit at HEAD.

    Then overwriting a working-tree file with these bytes loses nothing: ``git checkout``
    brings it back. The working tree may differ from the blob by Git's clean filters (line
    endings, LFS), so a raw mismatch is re-checked with ``git hash-object --path``.
    """
    oid = committed_blob_id(root, relpath)
    if oid is None:
        return False
    fmt = "sha1" if len(oid) == 40 else "sha256"
    if blob_id(data, fmt) == oid:
        return True
    out = _git(root, "hash-object", "--stdin", f"--path={relpath}", data=data)
    return out is not None and out.decode().strip() == oid


def is_tracked(root: Path | str, relpath: str) -> bool:
    """Whether Git's index tracks ``relpath``."""
    return read(root, "ls-files", "--error-unmatch", "--", relpath)[0] == 0


def uncommitted(root: Path | str) -> list[str]:
    """Paths with changes Git has not committed (what apply wrote that belongs in Git)."""
    out = _git(root, "status", "--porcelain", "--untracked-files=all")
    if out is None:
        return []
    return [line[3:] for line in out.decode("utf-8", "replace").splitlines() if len(line) > 3]


def short(sha: str | None) -> str:
    return sha[:8] if sha else "(none)"


def registered_models(root: Path | str) -> list[str]:
    """Names of the models with a version tag (``name@vX.Y.Z``, GTO's grammar) in this repository."""
    out = _git(root, "tag", "--list", "*@v*")
    names = {line.partition("@")[0] for line in (out or b"").decode("utf-8", "replace").splitlines() if "@v" in line}
    return sorted(n for n in names if n)
