"""Reuse the last plan while nothing it read has moved (``.mlopsctl/cache/plans/``).

A no-op plan of a thousand models reads some twenty thousand files and diffs four thousand
resources; run again with nothing changed, it would read the same files and say the same thing.
Like Git's index and DVC's state database, this memo trusts a file whose stat is unchanged:

- What a plan read is recorded while it is computed (:mod:`mlopsctl.workspace.observe`): every
  path opened, listed or stat'ed, and the answers of declared probes (``git status``, the Docker
  engine's ping and container list; the registry's tags are kept as the ref files holding them).
  A plan that reached anything else (another subprocess, a network remote, docker-py) is not
  kept; nor is one that read a file modified within one timestamp tick of it.
- It is reused only when its key is equal — mlopsctl's own code (the stat of every file of the
  package, its templates and schemas), the interpreter and its installed packages, the
  environment, the user, the repository, the working directory and the plan's options — and when
  every recorded path stats the same and every probe answers the same.
- When only model specs moved (their folder listing the same names, and ``git status`` answering
  otherwise only in their lines), the plan is computed again but takes the changes those edits
  cannot have touched from the kept one (:mod:`mlopsctl.core.reuse`); the new record is the kept
  one updated with what was read again.
- Only ``mlopsctl plan`` reuses it, never ``--train``. ``apply`` always computes its plan, and
  ``apply plan.json`` re-derives the saved plan and compares, so a memo can never make apply act.

``MLOPSCTL_PLAN_MEMO=off`` turns it off; ``=verify`` computes every plan as well and fails on any
difference from a reused one (the test suite runs that way); ``=on`` keeps one on a CI runner too,
where, unset, it is off (:func:`on_ci_runner`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl import __version__
from mlopsctl.core.model import Change, Plan, change_fields
from mlopsctl.workspace import observe

if TYPE_CHECKING:
    from mlopsctl.core.reuse import Kept, Tracker

MODE_ENV = "MLOPSCTL_PLAN_MEMO"
DIR = ".mlopsctl/cache/plans"
CACHE = ".mlopsctl/cache"
KEEP = 8
"""Memos kept per repository (one per set of plan options), the oldest removed first."""
_FORMAT = 7
_MAX_BYTES = 256 * 1024 * 1024
# Variables that change between two runs in one shell without changing what a plan reads.
_VOLATILE_ENV = frozenset({"_", "OLDPWD", "PWD", "SHLVL", "COLUMNS", "LINES", MODE_ENV})


def mode() -> str:
    """``on``, ``off`` or ``verify``: as ``MLOPSCTL_PLAN_MEMO`` says; unset, off on a CI runner
    (:func:`on_ci_runner`), else on."""
    value = os.environ.get(MODE_ENV)
    if value is None:
        return "off" if on_ci_runner() else "on"
    value = value.strip().lower()
    return value if value in ("on", "off", "verify") else "on"


def on_ci_runner() -> bool:
    """``CI`` is set, as GitHub Actions, GitLab CI and most CI services set it. A memo kept there
    is never reused: each job starts from a fresh clone, and each step has variables of its own
    (``GITHUB_ACTION``, ``CI_JOB_ID``...), which are part of a memo's key. Keeping it would only
    cost the plan its recording (a sixth of a first plan at 1,000 models)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def off_reason() -> str:
    """Why no memo is used (for ``--debug``), when :func:`mode` is off."""
    if MODE_ENV in os.environ:
        return f"off ({MODE_ENV}={os.environ[MODE_ENV]})"
    return f"off on a CI runner (CI is set; {MODE_ENV}=on keeps one there too)"


def _tree_stats(top: Path, out: list[Any]) -> None:
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            p = os.path.join(dirpath, name)
            out.append([p, observe.signature(p)])


def _code() -> list[Any]:
    """What mlopsctl runs: its files, its templates and schemas, the interpreter, its packages."""
    from mlopsctl.workspace.paths import SCHEMAS, TEMPLATES

    out: list[Any] = [__version__, sys.version, sys.executable]
    for top in (Path(__file__).resolve().parents[1], TEMPLATES, SCHEMAS):
        _tree_stats(top, out)
    for entry in sys.path:  # a package installed or removed changes its folder
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry):
            out.append([entry, observe.signature(entry, whole=True)])
    return out


def _ignored(root: Path) -> list[str]:
    """Paths not recorded: the repository's own caches (shortcuts only), and the code in the key."""
    from mlopsctl.workspace.paths import SCHEMAS, TEMPLATES

    mine = os.path.join(str(root), "")
    # Installed packages only: another folder on sys.path may hold what a plan reads (a remote).
    packages = (p for p in sys.path if os.path.isabs(p) and p.endswith(("site-packages", "dist-packages")))
    outside = [str(Path(__file__).resolve().parents[1]), str(TEMPLATES), str(SCHEMAS), sys.prefix,
               sys.base_prefix, sys.exec_prefix, *packages]
    keep = [p for p in outside
            if not mine.startswith(os.path.join(p, "")) and not os.path.join(p, "").startswith(mine)]
    # The kernel's views of processes and devices (a library reading its own memory map) are no
    # input of a plan.
    from mlopsctl.specs.quick import user_cache

    # The user's cache (the schemas' kept checkers) is made of the code in the key alone.
    return [str(root / CACHE), user_cache(), "/proc", "/sys", "/dev", *keep]


@dataclass
class Memo:
    """The plan memo of one repository and one set of plan options."""

    root: Path
    key: str
    mode: str
    logs: list[str] = field(default_factory=list)
    """Lines the computed plan said to people while planning, said again when it is reused."""
    moved: str | None = None
    """Why the kept memo was not reused (for ``--debug``), or None."""
    kept: Kept | None = None
    """When only model specs moved: the kept plan's changes, to reuse those the edits cannot
    have touched (:mod:`mlopsctl.core.reuse`)."""
    _record: dict[str, Any] | None = None
    _kept_record: dict[str, Any] | None = None
    _kept_moved: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def open(cls, root: Path, options: dict[str, Any]) -> Memo | None:
        """The memo for these options, or None when memos are off."""
        how = mode()
        if how == "off":
            return None
        env = sorted((k, v) for k, v in os.environ.items() if k not in _VOLATILE_ENV)
        blob = json.dumps([_FORMAT, _code(), env, os.getuid(), str(root), os.getcwd(), options],
                          sort_keys=True, default=str)
        return cls(root=root, key=hashlib.sha256(blob.encode()).hexdigest(), mode=how)

    @property
    def path(self) -> Path:
        return self.root / DIR / f"{self.key[:24]}.json"

    def lookup(self) -> Plan | None:
        """The kept plan when everything it read is as it was; else None (a reason in :attr:`moved`).

        The file holds JSON lines: the head (format, key, record, and a digest of the lines after
        it), the plan without its changes (with the lines said and what each run memo was made of),
        then one line per change, three JSON texts apart by tabs: the change but its states, its
        states (before, after, payload), and what computing it looked at. JSON text has no raw
        newline or tab, so the head is read and checked alone (a moved file costs no parse of the
        plan); a change's states are parsed only when read (:class:`_KeptChange`: a plan that only
        counts its unchanged resources never reads them); and a change taken again is written again
        as the very text it was kept as."""
        try:
            st = os.lstat(self.path)
            if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_BYTES:
                self.moved = "not a plain file"
                return None
            blob = self.path.read_bytes()
        except OSError:
            self.moved = "no memo"
            return None
        head_text, _, body_text = blob.partition(b"\n")
        try:
            head = json.loads(head_text)
            if head.get("format") != _FORMAT or head.get("key") != self.key:
                self.moved = "another key"
                return None
            specs, listings = head.get("specs") or {}, head.get("listings") or {}
            moved, self.moved = observe.moved(head["record"], lambda table, p: p in specs or (
                table == "list" and p in listings and _names(p) == listings[p]))
            if self.moved is not None:
                return None
            if head.get("sum") != hashlib.sha256(body_text).hexdigest():
                raise ValueError("the plan lines are not the ones kept")  # torn or edited: states are read late
            body_text, _, rows_text = body_text.partition(b"\n")
            body = json.loads(body_text)
            rows = [row.split(b"\t") for row in rows_text.split(b"\n")] if rows_text else []
            if any(len(row) != 3 for row in rows):
                raise ValueError("a change line is not a change, its states and its reads")
            if moved:
                self._partly(head, body, rows, moved)
                return None
            changes = tuple(_KeptChange.from_parsed(d, states) for d, (_, states, _) in zip(_loads_each(rows, 0), rows))
            plan = dataclasses.replace(Plan.from_dict({**body["plan"], "changes": []}), changes=changes)
            logs = [str(line) for line in body.get("logs") or []]
        except (KeyError, TypeError, ValueError, AttributeError):
            self.moved = "not in the expected shape"
            return None
        self.logs = logs
        now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        return dataclasses.replace(plan, created_at=now)

    def _partly(self, head: dict[str, Any], body: dict[str, Any], rows: list[list[bytes]],
                moved: list[tuple[str, str]]) -> None:
        """Only model specs moved: offer the kept plan's changes to :class:`~mlopsctl.core.reuse.Tracker`."""
        from mlopsctl.core.reuse import Kept, Reads

        specs = head.get("specs") or {}
        edited = {str(specs[p]) for _, p in moved if p in specs}
        changes: dict[str, Change] = {}
        reads = {str(a): Reads.from_list(r) for a, r in body["reads"].items()}
        texts: dict[str, bytes] = {}
        said = iter(_loads_each([row for row in rows if row[2]], 2))
        for d, row in zip(_loads_each(rows, 0), rows):
            change = _KeptChange.from_parsed(d, row[1])
            changes[change.address] = change
            if row[2]:
                reads[change.address] = Reads.from_list(next(said))
            texts[change.address] = b"\t".join(row)
        made = {str(k): Reads.from_list(r) for k, r in body["made"].items()}
        self.kept = Kept(changes=changes, reads=reads, edited=edited, made=made, texts=texts)
        self._kept_record, self._kept_moved = head["record"], moved
        quiet = ("(none; git status moved in their lines alone)" if any(t == observe.PROBE_TABLE for t, _ in moved)
                 else "(none; a folder listed the same)")
        self.moved = f"model specs edited: {', '.join(sorted(edited)) or quiet}"

    @contextlib.contextmanager
    def recording(self) -> Iterator[Callable[[str], None]]:
        """Record what the block reads; yields the function to tee the plan's lines for people to.

        Call :meth:`keep` with the plan afterwards; nothing is kept when the block raised.
        """
        self._make_folder()
        started = time.time_ns()
        self.logs = []
        with observe.recording(_ignored(self.root)) as rec:
            yield self.logs.append
        sealed = observe.seal(rec, started)
        if isinstance(sealed, str):
            self._record, self.moved = None, f"{self.moved or 'computed'}; not kept: {sealed}"
        else:
            self._record = sealed

    def _make_folder(self) -> None:
        """Make the memo's folder before the plan reads anything. A plan looks at ``.mlopsctl``
        itself (the layout check), so a fresh clone's first plan, which would create it to keep
        its memo, would leave a memo the next plan cannot reuse. Failures only cost time: the
        plan's own checks say what is wrong with a ``.mlopsctl`` that cannot be made."""
        from mlopsctl.workspace.fsafe import inside

        folder = self.root / DIR
        if folder.is_dir():
            return
        try:
            inside(self.root, DIR).mkdir(parents=True, exist_ok=True)
        except OSError:
            pass

    def keep(self, plan: Plan, tracker: Tracker | None = None, specs: dict[str, str] | None = None) -> bool:
        """Save the plan with its record, when the record can be reused; failures only cost time.

        With the ``tracker`` that watched the plan's computation and the model specs (model ->
        repository-relative path), a later plan may reuse changes its spec edits cannot touch."""
        if self._record is None:
            return False
        from mlopsctl.workspace.fsafe import write_atomic

        record = self._record
        if self._kept_record is not None:
            merged = _merge(self._kept_record, record, self._kept_moved)
            if merged is None:
                return False
            record = merged
        files = {os.path.join(str(self.root), rel): name for name, rel in (specs or {}).items()}
        folders = {os.path.dirname(p) for p in files} & set(record["list"])
        head = {"format": _FORMAT, "key": self.key, "record": record, "specs": files,
                "listings": {d: _names(d) for d in sorted(folders)}}
        body: dict[str, Any] = {"plan": plan.to_dict(payload=True, changes=False), "logs": self.logs,
                                "reads": {}, "made": {}}
        reads: dict[str, Any] = {}
        if tracker is not None and specs is not None:
            reads = tracker.reads
            on_a_line = {c.address for c in plan.changes}
            body["reads"] = {a: r.to_list() for a, r in reads.items() if a not in on_a_line}
            body["made"] = {k: r.to_list() for k, r in tracker.made_all().items()}
        kept = self.kept
        try:
            lines = [_dumps(body).encode()]
            for change in plan.changes:
                a = change.address
                said = reads.get(a)
                if kept is not None and kept.changes.get(a) is change and kept.reads.get(a) is said:
                    lines.append(kept.texts[a])  # taken as kept: written as the text it was kept as
                    continue
                lines.append("\t".join([*_change_texts(change), "" if said is None else _dumps(said.to_list())]).encode())
            rest = b"\n".join(lines)
            head["sum"] = hashlib.sha256(rest).hexdigest()
            write_atomic(self.path, _dumps(head).encode() + b"\n" + rest, root=self.root, durable=False)
            self._prune()
        except OSError:
            return False
        return True

    def _prune(self) -> None:
        folder = self.root / DIR
        kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in kept[KEEP:]:
            with contextlib.suppress(OSError):
                old.unlink()


_dumps = json.JSONEncoder(separators=(",", ":"), default=str, check_circular=False).encode
"""Compact JSON (one encoder made once: ``json.dumps`` with options makes one per call)."""


_STATES = ("before", "after", "payload")
"""A change's bulky fields, kept as their own JSON text (see :meth:`Memo.lookup`)."""


def _change_texts(change: Change) -> tuple[str, str]:
    """A change as the memo keeps it: the change but its states, and its states."""
    d = change.to_dict(payload=False)
    states = [d.pop("before"), d.pop("after"), change.payload]
    return _dumps(d), _dumps(states)


def _state(name: str) -> Any:
    """One of a :class:`_KeptChange`'s states: parsed, with the others, when first read."""
    slot = f"_{name}"

    def get(self: Change) -> Any:
        own = self.__dict__
        if "_states" in own:
            own["_before"], own["_after"], own["_payload"] = _parse_states(own.pop("_states"))
        return own[slot]

    def put(self: Change, value: Any) -> None:  # the dataclass's __init__ sets each field once
        self.__dict__[slot] = value

    return property(get, put)


class _KeptChange(Change):
    """A change read back from a memo, whose states (``before``, ``after``, ``payload``) are parsed
    from their kept text when first read: a thousand models' no-op changes, only counted by the
    terminal plan, cost no parse of what they hold. Equal to the change it was kept from."""

    before = _state("before")
    after = _state("after")
    payload = _state("payload")

    @classmethod
    def read(cls, change_text: bytes, states: bytes) -> Change:
        """:meth:`Change.from_dict` of the kept text, its states left as text."""
        return cls.from_parsed(json.loads(change_text), states)

    @classmethod
    def from_parsed(cls, d: dict[str, Any], states: bytes) -> Change:
        """:meth:`Change.from_dict` of the kept change's parsed text, its states left as text. Made
        without the frozen dataclass's ``__init__`` (a set through ``object.__setattr__`` per
        field): a warm plan reads back every change of a thousand models."""
        change = object.__new__(cls)
        # A frozen dataclass: its own dict, as cached_property does.
        change.__dict__.update(change_fields(d), _states=states)
        return change

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Change):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in dataclasses.fields(Change))

    __hash__ = Change.__hash__


def _loads_each(rows: list[list[bytes]], column: int) -> list[Any]:
    """The JSON texts of one column of the rows, parsed in one call: a call per text cost a warm
    plan at 1,000 models 7% of its instructions. Each is one JSON value: joined, they make one
    array of as many values, or the rows are not the ones kept (ValueError)."""
    values = json.loads(b"[" + b",".join(row[column] for row in rows) + b"]")
    if not isinstance(values, list) or len(values) != len(rows):
        raise ValueError("a change line does not hold one JSON text per column")
    return values


def _parse_states(text: bytes) -> tuple[Any, Any, dict[str, Any]]:
    from mlopsctl.errors import MlopsError

    try:
        before, after, payload = json.loads(text)
    except (ValueError, TypeError):
        before = after = payload = None  # the shape check below fails
    if not (before is None or isinstance(before, dict)) or not (after is None or isinstance(after, dict)) \
            or not isinstance(payload, dict):
        raise MlopsError(f"the plan memo under {DIR} holds a change that is not in the expected shape; "
                         f"remove that folder and plan again")
    return before, after, payload


def _names(folder: str) -> list[str] | None:
    """What a folder lists (sorted), or None when it cannot be listed."""
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return None


def _merge(kept: dict[str, Any], fresh: dict[str, Any], moved: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The record of a plan that reused kept changes: what the kept plan read (all of it as it was,
    but the moved specs), updated with what this plan read; None if this plan did not read again
    every path that moved (its new state would then be unknown)."""
    if any(table != observe.PROBE_TABLE and p not in fresh[table] for table, p in moved):
        return None
    out: dict[str, Any] = {}
    for table, _, _ in observe.TABLES:
        out[table] = {**kept[table], **fresh[table]}
    # A probe whose answer moved is kept only as this plan asked it (if nothing it computed asked
    # it, nothing it keeps depends on it).
    stale = {p for table, p in moved if table == observe.PROBE_TABLE}
    probes = {(line[0], tuple(line[1])): line for line in kept["probes"]
              if observe.probe_key(line[0], line[1]) not in stale}
    probes.update({(line[0], tuple(line[1])): line for line in fresh["probes"]})
    out["probes"] = list(probes.values())
    return out


def differences(reused: Plan, computed: Plan) -> list[str]:
    """How a reused plan differs from the one computed now (``created_at`` aside): empty when equal.

    The changes, warnings and project as a saved plan is compared (:func:`mlopsctl.core.saved.differences`),
    and every other field a plan carries (pins, options, targets...)."""
    from mlopsctl.core.saved import differences as plan_differences

    a, b = (json.loads(json.dumps(p.to_dict(payload=False), default=str)) for p in (reused, computed))
    out = [f"{k}: {a.get(k)!r:.300} != {b.get(k)!r:.300}" for k in sorted(set(a) | set(b))
           if k not in ("created_at", "changes") and a.get(k) != b.get(k)]
    return out + plan_differences(reused, computed)
