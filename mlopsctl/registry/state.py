"""The registry as data: versions and environment assignments per model, from the tags alone.

The semantics follow GTO (so ``gto show`` and ``mlopsctl models`` agree):

- a version is active while its newest register/deregister tag is a registration;
- an assignment tag points at a commit and means the version registered on that commit;
- per environment, among active versions whose newest event for that environment is an
  assignment, the one assigned most recently wins (``gto show``'s default ``--sort timestamp``).

Only versions mlopsctl registered (``vN.0.0`` with the JSON record in the message) are listed:
a version without a record has no digest to verify and no gate result, so it cannot be served.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.registry.tags import Event, TagRecord, event_order, events, read_tags


@dataclass(frozen=True)
class ModelVersion:
    """One registered version, everything read back from its tag."""

    model: str
    version: int
    tag: str
    commit: str
    artifact_md5: str
    artifact_sha256: str
    metrics: dict[str, float]
    lineage: dict[str, Any]
    artifact_path: str = ""
    """Repository-relative path of the artifact when it was trained (``artifacts/<model>/model.joblib``)."""
    created_at: str = ""
    """When the version was registered (the tag's date, ISO 8601 UTC)."""
    fairness: dict[str, Any] | None = None
    """The per-group report the fairness gate judged (None when the spec names no sensitive columns)."""
    registered_by: dict[str, Any] | None = None
    """Who registered it: ``{"name", "email"}`` and, from CI, ``{"actor", "run_url"}``."""
    name: str = ""
    """The version as GTO names it (``v3.0.0``; ``v3.0.1`` for one registered by hand)."""

    @property
    def recorded(self) -> bool:
        """Registered by mlopsctl, with a digest to verify: only such a version can be served."""
        return bool(self.artifact_sha256)

    @property
    def label(self) -> str:
        return f"v{self.version}" if self.recorded or not self.name else self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tag": self.tag,
            "commit": self.commit,
            "created_at": self.created_at,
            "artifact": {"path": self.artifact_path, "md5": self.artifact_md5, "sha256": self.artifact_sha256},
            "metrics": dict(self.metrics),
            "lineage": dict(self.lineage),
            "fairness": self.fairness,
            "registered_by": self.registered_by,
        }


def _iso(ts: int) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).isoformat(timespec="seconds")


def _foreign(event: Event) -> ModelVersion:
    """A version registered by hand (``gto register``): GTO lists it, mlopsctl cannot verify or serve it."""
    return ModelVersion(model=event.model, version=int(event.major or 0), tag=event.tag.name, commit=event.tag.commit,
                        artifact_md5="", artifact_sha256="", metrics={}, lineage={},
                        created_at=_iso(event.tag.time), name=str(event.version))


def _version_from(event: Event) -> ModelVersion | None:
    payload = event.payload
    if not event.is_plain_major or payload is None:
        return _foreign(event)
    artifact = payload.get("artifact") or {}
    if not isinstance(artifact, dict) or not artifact.get("sha256"):
        return _foreign(event)
    metrics = payload.get("metrics") or {}
    return ModelVersion(
        model=event.model,
        version=int(event.major or 0),
        tag=event.tag.name,
        commit=event.tag.commit,
        artifact_md5=str(artifact.get("md5") or ""),
        artifact_sha256=str(artifact["sha256"]),
        metrics={k: v for k, v in metrics.items() if isinstance(v, (int, float))} if isinstance(metrics, dict) else {},
        lineage=dict(payload.get("lineage") or {}),
        artifact_path=str(artifact.get("path") or ""),
        created_at=_iso(event.tag.time),
        fairness=payload["fairness"] if isinstance(payload.get("fairness"), dict) else None,
        registered_by=payload["registered_by"] if isinstance(payload.get("registered_by"), dict) else None,
        name=str(event.version),
    )


@dataclass
class ModelRegistry:
    """What the tags say about one model."""

    model: str
    versions: list[ModelVersion] = field(default_factory=list)
    """Active versions mlopsctl registered, oldest (lowest N) first."""
    assignments: dict[str, ModelVersion] = field(default_factory=dict)
    """Environment -> the version it serves now."""
    assigned_at: dict[str, int] = field(default_factory=dict)
    active: dict[str, list[ModelVersion]] = field(default_factory=dict)
    """Environment -> every version still assigned to it (newest first); only the first serves."""
    history: list[Event] = field(default_factory=list)
    foreign: list[ModelVersion] = field(default_factory=list)
    """Active versions registered by hand (no mlopsctl record), oldest first: GTO lists them."""
    deregistered: dict[int, ModelVersion] = field(default_factory=dict)
    """mlopsctl's versions whose newest register/deregister event is a deregistration."""
    hand_events: dict[str, Event] = field(default_factory=dict)
    """Environment -> its newest assign/unassign event when a person wrote it, not mlopsctl."""
    deprecated: Event | None = None
    """The model's newest event, when it is a deprecation (``gto deprecate MODEL``): GTO hides the model."""
    max_major: int = 0
    max_counter: int = 0
    newest_time: int = 0

    @property
    def next_version(self) -> int:
        return self.max_major + 1

    @property
    def next_counter(self) -> int:
        return self.max_counter + 1

    @property
    def latest(self) -> ModelVersion | None:
        return self.versions[-1] if self.versions else None

    def get(self, version: int) -> ModelVersion | None:
        for mv in self.versions:
            if mv.version == version:
                return mv
        return None

    def by_sha256(self, sha256: str) -> ModelVersion | None:
        for mv in reversed(self.versions):
            if mv.artifact_sha256 == sha256:
                return mv
        return None

    def on_commit(self, commit: str) -> list[ModelVersion]:
        return [mv for mv in self.versions if mv.commit == commit]

    def environments_of(self, version: int) -> list[str]:
        return sorted(env for env, mv in self.assignments.items() if mv.version == version and mv.recorded)

    def resolve(self, ref: int | str) -> ModelVersion | None:
        if isinstance(ref, str) and ref.strip().lower() == "latest":
            return self.latest
        try:
            n = int(str(ref).lstrip("v").split(".")[0])
        except ValueError:
            return None
        return self.get(n)


def _build(model: str, evs: list[Event]) -> ModelRegistry:
    reg = ModelRegistry(model=model, history=evs)
    registered: dict[str, ModelVersion] = {}
    active: dict[str, bool] = {}
    for ev in evs:
        reg.newest_time = max(reg.newest_time, ev.tag.time)
        reg.max_counter = max(reg.max_counter, ev.counter or 0)
        if ev.version is not None:
            reg.max_major = max(reg.max_major, ev.major or 0)
        if ev.action == "register" and ev.version:
            mv = _version_from(ev)
            if mv is not None:
                registered.setdefault(ev.version, mv)
            active[ev.version] = True
        elif ev.action == "deregister" and ev.version:
            active[ev.version] = False
    live = [mv for key, mv in registered.items() if active.get(key)]
    reg.versions = sorted((mv for mv in live if mv.recorded), key=lambda mv: mv.version)
    reg.foreign = sorted((mv for mv in live if not mv.recorded), key=lambda mv: mv.created_at)
    reg.deregistered = {mv.version: mv for key, mv in registered.items() if mv.recorded and not active.get(key)}
    if evs and evs[-1].action == "deprecate":
        reg.deprecated = evs[-1]
    everyone = [*reg.versions, *reg.foreign]
    # Per (version, environment): is the newest event an assignment, and when was the newest assignment.
    state: dict[tuple[str, str], tuple[bool, int, int]] = {}
    for ev in evs:
        if ev.action not in ("assign", "unassign") or not ev.stage:
            continue
        payload = ev.payload or {}
        if payload.get("by") != "mlopsctl":
            reg.hand_events[ev.stage] = ev
        else:
            reg.hand_events.pop(ev.stage, None)
        at_commit = [mv for mv in everyone if mv.commit == ev.tag.commit]
        if len(at_commit) != 1:
            continue  # no version (or, against GTO's rules, several) on that commit
        key = (at_commit[0].tag, ev.stage)
        _, when, counter = state.get(key, (False, 0, 0))
        if ev.action == "assign":
            state[key] = (True, ev.tag.time, ev.counter or 0)
        else:
            state[key] = (False, when, counter)
    by_tag = {mv.tag: mv for mv in everyone}
    ranked: dict[str, list[tuple[int, int, str]]] = {}
    for (tag, env), (is_active, when, counter) in state.items():
        if is_active:
            ranked.setdefault(env, []).append((when, counter, tag))
    for env, ranks in ranked.items():
        ranks.sort(reverse=True)
        reg.active[env] = [by_tag[t] for _, _, t in ranks if t in by_tag]
        if reg.active[env]:
            reg.assignments[env] = reg.active[env][0]
            reg.assigned_at[env] = ranks[0][0]
    return reg


class RegistryState:
    """The registry of every model in one repository; each model's registry is built from its
    events when first asked for (a plan that diffs one model builds one, not a thousand)."""

    def __init__(self, by_model: dict[str, list[Event]]) -> None:
        self._events = by_model
        self._built: dict[str, ModelRegistry] = {}

    @classmethod
    def from_records(cls, records: list[TagRecord]) -> RegistryState:
        by_model: dict[str, list[Event]] = {}
        for ev in events(records):
            by_model.setdefault(ev.model, []).append(ev)
        return cls(by_model)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RegistryState) and self.models == other.models

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RegistryState({self.models!r})"

    @property
    def models(self) -> dict[str, ModelRegistry]:
        """Every model with registry events -> its registry (all of them built)."""
        return {name: self.model(name) for name in self._events}

    def assigned(self) -> list[str]:
        """The models with an assignment event (only they can have a version assigned)."""
        return [name for name, evs in self._events.items() if any(ev.action in ("assign", "unassign") for ev in evs)]

    def add(self, record: TagRecord) -> None:
        """Fold in a tag this process just wrote, rebuilding its model alone: the result equals
        a fresh :meth:`read` (registering N versions must not read every tag N times)."""
        for ev in events([record]):
            evs = [e for e in self.model(ev.model).history if e.tag.name != record.name]
            evs.append(ev)
            evs.sort(key=event_order)
            self._events[ev.model] = evs
            self._built[ev.model] = _build(ev.model, evs)

    @classmethod
    def read(cls, root: Path) -> RegistryState:
        return cls.from_records(read_tags(root))

    def model(self, name: str) -> ModelRegistry:
        reg = self._built.get(name)
        if reg is None:
            evs = self._events.get(name)
            reg = ModelRegistry(model=name) if evs is None else self._built.setdefault(name, _build(name, evs))
        return reg
