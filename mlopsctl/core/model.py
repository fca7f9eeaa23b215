"""The plan as data: resources, changes and the plan itself.

A :class:`Plan` is computed once; the renderers (terminal, Markdown, JSON) only present it and
apply only executes it. Everything here is plain, JSON-serialisable data so a plan can be saved
to a file, shown later, and applied after checking that nothing it was computed from moved.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any

from mlopsctl.errors import Location

FORMAT_VERSION = "1.0"


def make_address(kind: str, name: str) -> str:
    """Address grammar: ``<kind>.<name>``; the kind never contains a dot, the name may.

    Examples: ``file.dvc.yaml``, ``dataset.iris``, ``stage.iris.train``, ``registry.iris.production``.
    """
    return f"{kind}.{name}"


def split_address(address: str) -> tuple[str, str]:
    """``(kind, name)``, the split :meth:`Address.parse` makes, without making an Address (a plan
    splits every address several times)."""
    kind, _, name = address.partition(".")
    return kind, name


@dataclass(frozen=True)
class Address:
    """A resource address, parsed once: ``<kind>.<name>``.

    Names of model-scoped kinds start with the model: ``stage.iris.train``, ``model.iris``,
    ``registry.iris.production``, ``image.iris``, ``deployment.iris.staging``. File and dataset
    names are paths and may hold dots (``file.dvc.yaml``, ``dataset.data/iris.csv``).
    """

    kind: str
    name: str

    @classmethod
    def parse(cls, address: str) -> Address:
        return cls(*split_address(address))

    @property
    def model(self) -> str:
        """The model of a model-scoped address (the name's first dotted part)."""
        return self.name.partition(".")[0]

    @property
    def part(self) -> str:
        """What follows the model: the environment of ``registry.iris.staging`` and
        ``deployment.iris.staging``, the step of ``stage.iris.train``; "" when none."""
        return self.name.partition(".")[2]

    def __str__(self) -> str:
        return make_address(self.kind, self.name)


class Action(str, enum.Enum):
    """What apply will do to one resource, ordered by severity (see :attr:`severity`)."""

    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def terraform_actions(self) -> list[str]:
        """``change.actions`` as ``terraform show -json`` spells them."""
        if self is Action.REPLACE:
            return ["delete", "create"]
        return [self.value]

    @property
    def symbol(self) -> str:
        return _SYMBOL[self]


PROTECTED = "protected"
"""Payload key of a change blocked because it deletes a protected environment's deployment."""

_SEVERITY = {Action.NOOP: 0, Action.CREATE: 1, Action.UPDATE: 2, Action.REPLACE: 3, Action.DELETE: 4}
_SYMBOL = {Action.NOOP: " ", Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+", Action.DELETE: "-"}


@dataclass(frozen=True)
class Resource:
    """One desired resource, expanded from the specs."""

    kind: str
    name: str
    desired: dict[str, Any]
    """JSON-serialisable desired attributes; what the provider compares with the actual state."""
    depends_on: tuple[str, ...] = ()
    """Addresses this resource needs to exist (and be up to date) first."""
    source: Location | None = None
    """Where in the specs this resource comes from, for messages."""
    model: str | None = None
    """The model this resource belongs to, or None for project-wide resources."""

    @property
    def address(self) -> str:
        return make_address(self.kind, self.name)


@dataclass(frozen=True)
class Change:
    """What apply will do to one resource, and why, in words a person understands."""

    address: str
    action: Action
    before: dict[str, Any] | None = None
    """Actual state as read (None when absent); shown to people and in JSON."""
    after: dict[str, Any] | None = None
    """Desired state (None for a delete); shown to people and in JSON."""
    reasons: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    model: str | None = None
    diff: str | None = None
    """A unified diff for text resources, rendered under the reasons."""
    blocked: str | None = None
    """Why apply will refuse this change unless forced (e.g. it would lose a hand edit)."""
    requires: str | None = None
    """A capability apply needs for this change that was missing when it was planned (e.g. "a Docker
    engine" when none answered); None when everything it needs was there. Checked again at apply."""
    fingerprint: str | None = None
    """Digest of the actual state the change was computed from; a saved plan is stale once it moves."""
    payload: dict[str, Any] = field(default_factory=dict)
    """What apply needs beyond ``after`` (e.g. rendered file content); saved, never rendered."""
    source: Location | None = None

    @cached_property
    def addr(self) -> Address:
        """The address, parsed (once per change)."""
        return Address.parse(self.address)

    @property
    def kind(self) -> str:
        return self.addr.kind

    @property
    def name(self) -> str:
        return self.addr.name

    def with_(self, **kw: Any) -> Change:
        """A copy with some fields replaced (``dataclasses.replace``, without its per-field
        checks: every diff makes a few of these, thousands per plan)."""
        if type(self) is not Change or not kw.keys() <= _CHANGE_FIELDS:
            return replace(self, **kw)
        new = object.__new__(Change)
        state = new.__dict__
        state.update(self.__dict__)
        if "address" in kw:
            state.pop("addr", None)  # the parsed address is of the old one
        state.update(kw)
        return new

    def to_dict(self, *, payload: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "address": self.address,
            "action": self.action.value,
            "before": self.before,
            "after": self.after,
            "reasons": list(self.reasons),
            "depends_on": list(self.depends_on),
            "model": self.model,
            "diff": self.diff,
            "blocked": self.blocked,
            "requires": self.requires,
            "fingerprint": self.fingerprint,
            "source": None if self.source is None else [self.source.file, self.source.line, self.source.column],
        }
        if payload:
            d["payload"] = self.payload
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Change:
        return cls(before=d.get("before"), after=d.get("after"), payload=dict(d.get("payload") or {}),
                   **change_fields(d))


_ACTIONS = {a.value: a for a in Action}


def change_fields(d: dict[str, Any]) -> dict[str, Any]:
    """A change's fields but its states (``before``, ``after``, ``payload``), from its dict
    (:meth:`Change.to_dict`); a missing address or an unknown action raises KeyError or ValueError."""
    address, action, src = d["address"], d["action"], d.get("source")
    try:
        action = _ACTIONS[action]
    except (KeyError, TypeError):  # not one of them: Action() says so
        action = Action(action)
    return {
        "address": address,
        "action": action,
        "reasons": tuple(d.get("reasons") or ()),
        "depends_on": tuple(d.get("depends_on") or ()),
        "model": d.get("model"),
        "diff": d.get("diff"),
        "blocked": d.get("blocked"),
        "requires": d.get("requires"),
        "fingerprint": d.get("fingerprint"),
        "source": None if not src else Location(src[0], src[1], src[2]),
    }


_CHANGE_FIELDS = frozenset(f.name for f in fields(Change))


@dataclass(frozen=True)
class Plan:
    """The whole plan: changes in dependency order plus what it was computed from."""

    changes: tuple[Change, ...]
    pins: dict[str, Any]
    """What the plan was computed from: git HEAD, spec digests, ... (see core.pins)."""
    project: str = ""
    destroy: bool = False
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    created_at: str = ""
    mlopsctl_version: str = ""
    options: dict[str, bool] = field(default_factory=dict)
    """What the plan was computed with beyond targets (``force``, ``allow_destroy_protected``, ...)."""

    @property
    def pending(self) -> tuple[Change, ...]:
        """The changes apply will carry out (everything but no-ops)."""
        return tuple(c for c in self.changes if c.action is not Action.NOOP)

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    def counts(self) -> dict[str, int]:
        """Terraform's summary: replace counts as one add and one destroy."""
        add = change = destroy = 0
        for c in self.changes:
            if c.action is Action.CREATE:
                add += 1
            elif c.action is Action.UPDATE:
                change += 1
            elif c.action is Action.DELETE:
                destroy += 1
            elif c.action is Action.REPLACE:
                add += 1
                destroy += 1
        return {"add": add, "change": change, "destroy": destroy}

    def summary(self) -> str:
        if not self.has_changes:
            return "No changes."
        c = self.counts()
        return f"Plan: {c['add']} to add, {c['change']} to change, {c['destroy']} to destroy."

    def refused(self, force: bool) -> list[Change]:
        """Changes apply refuses: blocked ones, unless forced; protected deletions even when forced."""
        return [c for c in self.changes
                if c.blocked and c.action is not Action.NOOP and (not force or c.payload.get(PROTECTED))]

    def get(self, address: str) -> Change | None:
        for c in self.changes:
            if c.address == address:
                return c
        return None

    def to_dict(self, *, payload: bool = True, changes: bool = True) -> dict[str, Any]:
        """The plan as JSON data; without its ``changes`` when the caller writes them itself."""
        return {
            "format_version": FORMAT_VERSION,
            "mlopsctl_version": self.mlopsctl_version,
            "created_at": self.created_at,
            "project": self.project,
            "destroy": self.destroy,
            "targets": list(self.targets),
            "excludes": list(self.excludes),
            "warnings": list(self.warnings),
            "pins": self.pins,
            "options": self.options,
            **({"changes": [c.to_dict(payload=payload) for c in self.changes]} if changes else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        return cls(
            changes=tuple(Change.from_dict(c) for c in d["changes"]),
            pins=dict(d.get("pins") or {}),
            project=d.get("project", ""),
            destroy=bool(d.get("destroy")),
            targets=tuple(d.get("targets") or ()),
            excludes=tuple(d.get("excludes") or ()),
            warnings=tuple(d.get("warnings") or ()),
            created_at=d.get("created_at", ""),
            mlopsctl_version=d.get("mlopsctl_version", ""),
            options={str(k): bool(v) for k, v in dict(d.get("options") or {}).items()},
        )


def fingerprint(actual: dict[str, Any] | None) -> str:
    """Identity of an actual state: a saved plan is stale once a re-read gives another one."""
    return hashlib.sha256(_canonical(actual).encode()).hexdigest()[:16]


_canonical = json.JSONEncoder(sort_keys=True, default=str, separators=(",", ":")).encode
