"""What a computation looked at, so that its result can be reused while none of it has moved.

A :class:`Recorder` notes every path the process opens for reading, lists or stats while it is
active (Python's audit hooks see ``open``, ``os.listdir`` and ``os.scandir``; ``os.stat`` and
``os.lstat`` are wrapped for as long as it records), and the answers of the external reads a
caller declared as *probes* (:func:`probe`: the registry's tags through ``git``, the Docker
engine). Anything else that reaches outside the file system (a subprocess or a socket outside a
probe, a change of directory, a stat relative to a directory descriptor) *taints* the record:
it cannot be reused, because nothing can tell whether that outside answer is still the same.

:func:`check` says whether a record still holds: every path is stat'ed again and compared by
:func:`~mlopsctl.workspace.digests.stat_key` (absent stays absent), and every probe is asked
again and its answer compared by digest. Probes are re-run only through the fixed table
:data:`PROBES` (import strings, like the providers'), never through a name read from a file.

A child forked to read for the computation (the plan's read worker) records in its copy of the
record and hands what it noted back with each result (:func:`hand_over`); the parent notes it as
its own (:func:`take_over`), and forking it is declared (:func:`declared`), not an outside read.

Over-recording only costs time (a record that never matches); under-recording would be a wrong
answer, which is why the unknown taints instead of being ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from mlopsctl.workspace.digests import too_recent

T = TypeVar("T")

PROBES: dict[str, str] = {
    "git": "mlopsctl.workspace.git:probe_read",
    "engine": "mlopsctl.serving.engine:probe",
}
"""Probe kind -> ``module:function`` that asks it again (``function(*args)``); the only ones re-run."""

PROBE_PATHS: dict[str, str] = {
    "git": "mlopsctl.workspace.git:probe_paths",
}
"""Probe kind -> ``module:function`` telling where two answers of one question differ:
``function(args, kept, now)`` gives the paths (absolute) whose entries differ, or None when the
answers differ otherwise or the question is not one it can tell. A record keeps the answer of
such a question (when it says it can tell, and the answer is small) so that :func:`moved` can let
an answer move with the paths it may let move."""
_KEPT_ANSWER_BYTES = 64 * 1024

_SAME_ASK = frozenset({"git"})
"""Probe kinds whose callers ask with the very function :data:`PROBES` names, with the same
arguments: an answer :func:`moved` just got for one of them is the answer the caller would get."""
_answered: dict[tuple[str, tuple[str, ...]], Any] = {}

# Audit events that reach outside the files a record can stat again.
_OUTSIDE = frozenset({
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "socket.connect", "socket.getaddrinfo", "socket.sendto", "os.chdir", "os.fchdir", "sqlite3.connect",
    "mmap.__new__", "urllib.Request", "http.client.connect", "ftplib.connect", "smtplib.connect",
})

TABLES = (("stat", True, False), ("lstat", False, False), ("list", True, True))
"""A record's tables of paths: name, stat through links, keep a directory's stat whole."""

_UNSEEN = object()
_real_stat = os.stat
_real_lstat = os.lstat
_current: Recorder | None = None
_lock = threading.Lock()
_hooked = False


@dataclass
class Recorder:
    """The paths and probe answers one computation depended on (see the module's docstring)."""

    ignore: tuple[str, ...] = ()
    """Absolute path prefixes not recorded: caches that are only shortcuts, the interpreter and
    the package itself (its code is part of the key the caller builds, not of the record)."""
    stats: dict[str, Any] = field(default_factory=dict)
    """Paths looked at through symlinks (``stat``, ``open``) -> what the stat gave, when one was
    made (a stat result or the OSError), else None (stat'ed when the record is sealed)."""
    lstats: dict[str, Any] = field(default_factory=dict)
    """Paths looked at themselves (``lstat``: a link is not followed), the same way."""
    lists: set[str] = field(default_factory=set)
    """Directories listed: what is in them matters, so their stat is kept whole."""
    probes: list[list[Any]] = field(default_factory=list)
    """``[kind, args, digest of the answer]`` in the order they were asked, the answer itself
    added where :data:`PROBE_PATHS` can tell where two answers differ (:func:`_noted`)."""
    tainted: str | None = None
    """Why this record cannot be reused (the first outside read), or None."""
    spy: Callable[[str], None] | None = None
    """Told every path noted under :attr:`spied` (recorded or not before), while :func:`spying`."""
    spied: str = "/"
    _inside: int = 0
    _normal: dict[str, Any] = field(default_factory=dict)
    """A path as given -> as recorded (None: not recorded); a change of directory taints anyway."""

    def _path(self, path: Any) -> str | None:
        if isinstance(path, int):
            return None  # a descriptor: its file was recorded when it was opened
        try:
            p = os.fsdecode(path)
        except TypeError:
            self.tainted = self.tainted or f"an unusual path argument {type(path).__name__}"
            return None
        if not p.startswith("/"):
            p = os.path.join(os.getcwd(), p)
        return None if (p + "/").startswith(self.ignore) else p

    def note(self, path: Any, follow: bool = True, seen: Any = None) -> None:
        if type(path) is str:  # most paths come back many times: normalise each once
            p = self._normal.get(path, _UNSEEN)
            if p is _UNSEEN:
                p = self._normal[path] = self._path(path)
        else:
            p = self._path(path)
        if p is None:
            return
        if self.spy is not None and p.startswith(self.spied):
            self.spy(p)
        table = self.stats if follow else self.lstats
        if table.get(p) is None:
            table[p] = seen

    def note_list(self, path: Any) -> None:
        p = self._path(path)
        if p is not None:
            if self.spy is not None and p.startswith(self.spied):
                self.spy(p)
            self.lists.add(p)

    def outside(self, what: str) -> None:
        if self._inside == 0 and self.tainted is None:
            self.tainted = what

    def to_dict(self) -> dict[str, Any]:
        return {"stat": sorted(self.stats), "lstat": sorted(self.lstats), "list": sorted(self.lists),
                "probes": self.probes}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    rec = _current
    if rec is None:
        return
    if event == "open":
        path, _mode, flags = args
        if path is not None and not (isinstance(flags, int) and flags & os.O_ACCMODE == os.O_WRONLY):
            rec.note(path)  # read, or read and written: a write-only open tells nothing read
    elif event in ("os.listdir", "os.scandir"):
        rec.note_list(args[0] if args and args[0] is not None else ".")
    elif event in _OUTSIDE:
        rec.outside(f"{event} {str(args[:2])[:200]}")


def _stat(path: Any, *, dir_fd: int | None = None, follow_symlinks: bool = True) -> os.stat_result:
    rec = _current
    if rec is None or dir_fd is not None:
        if rec is not None:
            rec.outside("a stat relative to a directory descriptor")
        return _real_stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
    try:
        st = _real_stat(path, follow_symlinks=follow_symlinks)
    except OSError as e:
        rec.note(path, follow_symlinks, e)
        raise
    rec.note(path, follow_symlinks, st)  # kept as seen: a change after it shows at the next check
    return st


def _lstat(path: Any, *, dir_fd: int | None = None) -> os.stat_result:
    return _stat(path, dir_fd=dir_fd, follow_symlinks=False)


class recording:
    """``with recording(ignore) as rec:`` records what the block looks at (one recorder at a time);
    named like a function, as it is used like ``open()``."""

    def __init__(self, ignore: Iterable[str] = ()) -> None:
        self.rec = Recorder(ignore=tuple(os.path.join(p, "") for p in ignore))

    def __enter__(self) -> Recorder:
        global _current, _hooked
        with _lock:
            if not _hooked:
                sys.addaudithook(_audit)
                _hooked = True
            if _current is not None:
                self.rec.tainted = "another recording was running"
                self.nested = True
                return self.rec
            self.nested = False
            _current = self.rec
            os.stat, os.lstat = _stat, _lstat  # type: ignore[assignment]
        return self.rec

    def __exit__(self, *exc: object) -> None:
        global _current
        if self.nested:
            return
        with _lock:
            _current = None
            os.stat, os.lstat = _real_stat, _real_lstat  # type: ignore[assignment]
            _answered.clear()  # an answer is given again only within the run that got it


@contextlib.contextmanager
def spying(spy: Callable[[str], None], under: str = "/") -> Iterator[None]:
    """``spy(path)`` for every path starting with ``under`` the running recording notes in this
    block (none is running: nothing)."""
    rec = _current
    if rec is None:
        yield
        return
    rec.spy, rec.spied = spy, under
    try:
        yield
    finally:
        rec.spy, rec.spied = None, "/"


def probe(kind: str, args: list[str], ask: Callable[[], T]) -> T:
    """``ask()``, an external read the caller declares repeatable: ``PROBES[kind](*args)`` asks
    the same question again and must give an answer equal as JSON when nothing moved."""
    rec = _current
    if rec is None:
        return ask()
    asked = _answered.pop((kind, tuple(args)), _UNSEEN)
    if asked is not _UNSEEN:  # asked moments ago by :func:`moved` (one run, one answer)
        rec.probes.append(_noted(kind, args, asked))
        return asked  # type: ignore[no-any-return]
    try:
        with _allowed(rec):
            answer = ask()
    except Exception as e:
        rec.probes.append([kind, list(args), _answer_digest(None, e)])
        raise
    rec.probes.append(_noted(kind, args, answer))
    return answer


def _noted(kind: str, args: list[str], answer: Any) -> list[Any]:
    """A probe's line in a record: with the answer itself when :data:`PROBE_PATHS` can tell where
    two of its answers differ (and it is small), else its digest alone."""
    line = [kind, list(args), _answer_digest(answer, None)]
    if _paths_between(kind, args, answer, answer) == set():
        try:
            small = len(json.dumps(answer, separators=(",", ":"))) <= _KEPT_ANSWER_BYTES
        except (TypeError, ValueError):
            small = False
        if small:
            line.append(answer)
    return line


def _paths_between(kind: str, args: list[str], kept: Any, now: Any) -> set[str] | None:
    """The paths where two answers of one probe differ (:data:`PROBE_PATHS`), or None."""
    target = PROBE_PATHS.get(kind)
    if target is None:
        return None
    module, _, fn = target.partition(":")
    try:
        found = getattr(importlib.import_module(module), fn)(list(args), kept, now)
    except Exception:  # noqa: BLE001 - an answer it cannot read is one it cannot tell about
        return None
    return None if found is None else set(found)


def covered(ask: Callable[[], T], look: Callable[[], None]) -> T:
    """``ask()`` (an outside read, a subprocess), recorded as what ``look()`` then stats and
    lists: the files the answer is made of. For answers wholly determined by files (the refs
    behind ``git for-each-ref``), a check of those files replaces asking again."""
    rec = _current
    if rec is None:
        return ask()
    with _allowed(rec):
        answer = ask()
    look()  # after the answer: a change in between is newer than the computation, never kept
    return answer


@contextlib.contextmanager
def _allowed(rec: Recorder) -> Iterator[None]:
    """Outside reads in this block are declared (a probe's, a covered read's): they do not taint."""
    rec._inside += 1
    try:
        yield
    finally:
        rec._inside -= 1


def active() -> bool:
    """Whether a record is running in this process."""
    return _current is not None


def declared() -> contextlib.AbstractContextManager[None]:
    """An outside step taken on purpose whose reads are accounted for otherwise (forking a read
    worker, whose reads come back through :func:`hand_over`): it does not taint the running record."""
    rec = _current
    return _allowed(rec) if rec is not None else contextlib.nullcontext()


def hand_over() -> dict[str, Any] | None:
    """In a forked child of a recorded computation: what the record (the child's copy) noted since
    the last call, as JSON for the parent's :func:`take_over`, then forgotten here. None when
    nothing records."""
    rec = _current
    if rec is None:
        return None
    part = {"stat": {p: _portable(st) for p, st in rec.stats.items()},
            "lstat": {p: _portable(st) for p, st in rec.lstats.items()},
            "list": sorted(rec.lists), "probes": rec.probes, "tainted": rec.tainted}
    rec.stats, rec.lstats, rec.lists, rec.probes, rec.tainted = {}, {}, set(), [], None
    return part


def take_over(part: Any) -> None:
    """In the parent: a child's :func:`hand_over`, noted in the running record as if read here
    (a path already noted keeps what was seen first). Anything not in that shape taints it."""
    rec = _current
    if rec is None:
        return
    try:
        stats = {str(p): _unportable(v) for p, v in part["stat"].items()}
        lstats = {str(p): _unportable(v) for p, v in part["lstat"].items()}
        lists = [str(p) for p in part["list"]]
        probes = [list(line) for line in part["probes"]]
        if not all(len(line) >= 3 and isinstance(line[1], list) for line in probes):
            raise ValueError(probes)
        tainted = part["tainted"]
    except (KeyError, TypeError, ValueError, AttributeError):
        rec.outside("a read worker's record in an unexpected shape")
        return
    for table, seen in ((rec.stats, stats), (rec.lstats, lstats)):
        for p, st in seen.items():
            if table.get(p) is None:
                table[p] = st
    rec.lists.update(lists)
    rec.probes.extend(probes)
    if tainted is not None:
        rec.outside(str(tainted))


class _Seen(NamedTuple):
    """A stat a child made, as :func:`seal` and :func:`_text` read one."""

    st_mtime_ns: int
    st_ctime_ns: int
    st_size: int
    st_ino: int
    st_mode: int


def _portable(st: Any) -> Any:
    if st is None:
        return None
    if isinstance(st, OSError):
        return st.errno or 0
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_mode]


def _unportable(value: Any) -> Any:
    if value is None:
        return None
    if type(value) is int:
        return OSError(value, os.strerror(value)) if value else OSError("unknown")  # ENOENT: FileNotFoundError
    if type(value) is list and len(value) == 5 and all(type(x) is int for x in value):
        return _Seen(*value)
    raise ValueError(value)


def _answer_digest(answer: Any, error: BaseException | None) -> str:
    body = ["raised", type(error).__name__, str(error)] if error is not None else ["answered", answer]
    blob = json.dumps(body, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _ask_again(kind: str, args: list[str]) -> tuple[str, Any]:
    """The digest of the probe's answer now, and the answer (:data:`_UNSEEN` when it raised)."""
    target = PROBES.get(kind)
    if target is None or not all(isinstance(a, str) for a in args):
        return "unknown probe", _UNSEEN
    module, _, fn = target.partition(":")
    try:
        answer = getattr(importlib.import_module(module), fn)(*args)
    except Exception as e:  # noqa: BLE001 - the same failure is the same answer
        return _answer_digest(None, e), _UNSEEN
    return _answer_digest(answer, None), answer


def _stat_now(path: str, follow: bool) -> os.stat_result | OSError:
    try:
        return _real_stat(path, follow_symlinks=follow)
    except OSError as e:
        return e


def _text(st: os.stat_result | OSError, whole: bool) -> str | None:
    """What a record keeps of a path, from its stat (or the error of it): the stat key and mode as
    one string (a record of 20,000 paths is read back by every plan, several times faster than
    lists of numbers); None when absent, ``-errno`` when unreadable. A directory that was not
    listed (a step of resolving a path, an ``is_dir()``) keeps its identity alone: its times move
    with every file created in it, which matters only where it was listed (``whole``), and there
    its stat is kept whole."""
    if isinstance(st, OSError):
        return None if isinstance(st, (FileNotFoundError, NotADirectoryError)) else str(-(st.errno or 1))
    if not whole and stat.S_ISDIR(st.st_mode):
        return f"{st.st_mode},{st.st_ino}"
    # stat_key's fields, spelled out: a warm plan makes this text for 15,000 paths.
    return f"{st.st_mtime_ns},{st.st_ctime_ns},{st.st_size},{st.st_ino},{st.st_mode}"


def signature(path: str, follow: bool = True, whole: bool = False) -> str | None:
    """What a record keeps of ``path`` as it is now (see :func:`_text`)."""
    return _text(_stat_now(path, follow), whole)


def seal(rec: Recorder, started_ns: int) -> dict[str, Any] | str:
    """The record to keep, with every path's signature taken now; or why it cannot be reused:
    tainted, or a file it looked at changed within one timestamp tick of the computation (an
    edit could then hide behind an unchanged stat)."""
    if rec.tainted is not None:
        return f"it read {rec.tainted}"
    sigs: dict[str, Any] = {}
    for table, follow, whole in TABLES:
        out = sigs[table] = {}
        seen: dict[str, Any] = {"stat": rec.stats, "lstat": rec.lstats, "list": dict.fromkeys(rec.lists)}[table]
        for p, st in seen.items():
            if st is None:
                st = _stat_now(p, follow)
            if not isinstance(st, OSError) and (whole or not stat.S_ISDIR(st.st_mode)) and (
                    too_recent(st.st_mtime_ns, started_ns) or too_recent(st.st_ctime_ns, started_ns)):
                return f"{p} changed within a timestamp tick of the plan"
            out[p] = _text(st, whole)
    return {**sigs, "probes": rec.probes}


PROBE_TABLE = "probe"
"""The table :func:`moved` names a probe in when its answer moved with allowed paths alone; the
path is then the probe's key (:func:`probe_key`)."""


def probe_key(kind: str, args: list[str]) -> str:
    return json.dumps([kind, list(args)], separators=(",", ":"))


def moved(record: dict[str, Any], allowed: Callable[[str, str], bool]) -> tuple[list[tuple[str, str]], str | None]:
    """Like :func:`check`, but goes on past paths that moved while ``allowed(table, path)`` says
    they may: ``(those paths, None)`` when nothing else moved and every probe answers the same,
    else ``([], what moved)``. A probe whose answer moved only in entries of paths ``allowed``
    lets move (:data:`PROBE_PATHS`; a ``git status`` listing an edited spec) is among those paths,
    as ``(PROBE_TABLE, probe_key(...))``."""
    out: list[tuple[str, str]] = []
    _answered.clear()
    real_stat = _real_stat
    try:
        for table, follow, whole in TABLES:
            for p, sig in record[table].items():
                # :func:`signature` with its stat inlined: a warm plan checks 15,000 paths.
                st: os.stat_result | OSError
                try:
                    st = real_stat(p, follow_symlinks=follow)
                except OSError as e:
                    st = e
                if _text(st, whole) != sig:
                    if not allowed(table, p):
                        return [], f"{p} changed"
                    out.append((table, p))
        for kind, args, digest, *kept in record["probes"]:
            now, answer = _ask_again(kind, args)
            if now != digest:
                paths = None if not kept or answer is _UNSEEN else _paths_between(kind, args, kept[0], answer)
                if paths is None or not all(allowed("stat", p) for p in paths):
                    return [], f"{kind} {' '.join(args)[:120]} answers differently"
                out.append((PROBE_TABLE, probe_key(kind, args)))
            if kind in _SAME_ASK and answer is not _UNSEEN:
                # A plan computed next in this process (only specs moved) takes this answer
                # instead of asking again: the answer the same instant's computation would get.
                _answered[(kind, tuple(args))] = answer
    except (KeyError, TypeError, ValueError, AttributeError):
        return [], "the record is not in the expected shape"
    return out, None


def check(record: dict[str, Any]) -> str | None:
    """None when everything ``record`` (from :func:`seal`) looked at is as it was; else what moved.
    The probes are asked only when every path is as it was."""
    return moved(record, lambda table, path: False)[1]
